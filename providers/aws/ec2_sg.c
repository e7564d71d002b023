/* ec2_sg.c: aws.security_group and aws.key_pair. */
#include "providers/aws/aws.h"
