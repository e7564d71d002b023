/* ecr.c: aws.ecr_repository. */
#include "providers/aws/aws.h"
