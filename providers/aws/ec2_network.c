/* ec2_network.c: aws.internet_gateway, aws.subnet, aws.route_table and aws.route_table_association. */
#include "providers/aws/aws.h"
