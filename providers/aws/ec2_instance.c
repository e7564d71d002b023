/* ec2_instance.c: aws.instance. */
#include "providers/aws/aws.h"
