/* aws_data.c: the data sources aws.ami, aws.availability_zones, aws.caller_identity and aws.ecr_token. */
#include "providers/aws/aws.h"
