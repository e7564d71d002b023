/* rds.c: aws.db_subnet_group and aws.db_instance through the RDS query API. */
#include "providers/aws/aws.h"
