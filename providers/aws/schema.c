/* aws/schema.c: the schema of the aws provider, a subset of Terraform's AWS provider.
 * Names, flags and timeouts follow Terraform's so that its documentation applies; where we
 * differ (a required argument Terraform makes optional, an extension) a comment says so.
 * Conventions shared by every table are described at the top of providers/schema.c. */
#include "providers/schema.h"

#define MIN 60

/* Attributes nearly every AWS resource has, spelled once. */
#define ATTR_ID(what) \
	{ .name = "id", .type = &schema_string, .flags = SF_COMPUTED, .description = what }
#define ATTR_ARN(what) \
	{ .name = "arn", .type = &schema_string, .flags = SF_COMPUTED, .description = what }
#define ATTR_OWNER_ID \
	{ .name = "owner_id", .type = &schema_string, .flags = SF_COMPUTED, \
	  .description = "ID of the AWS account that owns it" }
#define ATTR_TAGS \
	{ .name = "tags", .type = &schema_map_of_string, .flags = SF_OPTIONAL, \
	  .description = "Tags to assign to it" }

/* ---- provider block ---------------------------------------------------------------- */

static const struct schema_attr aws_config_attrs[] = {
	{ .name = "region", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "AWS region to manage, e.g. \"eu-west-1\"" },
	{ .name = "profile", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Named profile from the shared config and credentials files" },
	{ .name = "access_key", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Access key ID; prefer a profile or the environment" },
	{ .name = "secret_key", .type = &schema_string, .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "Secret access key that goes with access_key" },
	{ .name = "token", .type = &schema_string, .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "Session token of temporary credentials" },
	{ .name = "shared_config_files", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Shared config files to read instead of ~/.aws/config" },
	{ .name = "shared_credentials_files", .type = &schema_list_of_string,
	  .flags = SF_OPTIONAL,
	  .description = "Shared credentials files to read instead of ~/.aws/credentials" },
	{ .name = "max_retries", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Most times a throttled or failed API call is retried" },
	{ .name = "skip_credentials_validation", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Do not check the credentials with STS GetCallerIdentity" },
	{ .name = "skip_region_validation", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Do not check region against the list of known regions" },
	{ .name = NULL }
};

/* ---- vpc --------------------------------------------------------------------------- */

static const struct schema_attr vpc_attrs[] = {
	/* Terraform: optional+computed, for IPAM allocation, which we do not offer. */
	{ .name = "cidr_block", .type = &schema_string,
	  .flags = SF_REQUIRED | SF_FORCE_NEW | SF_CIDR,
	  .description = "IPv4 address range of the VPC, e.g. \"10.0.0.0/16\"" },
	{ .name = "instance_tenancy", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"default\"",
	  .description = "Tenancy of instances launched into it: \"default\" or \"dedicated\"" },
	{ .name = "enable_dns_support", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "true",
	  .description = "Whether the Amazon DNS server resolves names in the VPC" },
	{ .name = "enable_dns_hostnames", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Whether instances with public IPs get public DNS hostnames" },
	{ .name = "enable_network_address_usage_metrics", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Whether network address usage metrics are enabled" },
	{ .name = "assign_generated_ipv6_cidr_block", .type = &schema_bool,
	  .flags = SF_OPTIONAL,
	  .description = "Request an Amazon-provided /56 IPv6 range" },
	ATTR_TAGS,
	ATTR_ID("VPC ID (vpc-...)"),
	ATTR_ARN("ARN of the VPC"),
	{ .name = "ipv6_cidr_block", .type = &schema_string, .flags = SF_COMPUTED | SF_CIDR,
	  .description = "IPv6 range assigned to the VPC, if any" },
	{ .name = "ipv6_association_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Association ID of the IPv6 range" },
	{ .name = "default_security_group_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the security group created with the VPC" },
	{ .name = "default_route_table_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the route table created with the VPC" },
	{ .name = "default_network_acl_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the network ACL created with the VPC" },
	{ .name = "main_route_table_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the route table used by subnets without an association" },
	{ .name = "dhcp_options_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the DHCP options set of the VPC" },
	ATTR_OWNER_ID,
	{ .name = NULL }
};

/* ---- internet_gateway -------------------------------------------------------------- */

static const struct schema_attr internet_gateway_attrs[] = {
	{ .name = "vpc_id", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "VPC to attach the gateway to; changing it re-attaches" },
	ATTR_TAGS,
	ATTR_ID("Internet gateway ID (igw-...)"),
	ATTR_ARN("ARN of the internet gateway"),
	ATTR_OWNER_ID,
	{ .name = NULL }
};

/* ---- subnet ------------------------------------------------------------------------ */

static const struct schema_attr subnet_attrs[] = {
	{ .name = "vpc_id", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "VPC to create the subnet in" },
	/* Terraform: optional+computed, for IPAM allocation, which we do not offer. */
	{ .name = "cidr_block", .type = &schema_string,
	  .flags = SF_REQUIRED | SF_FORCE_NEW | SF_CIDR,
	  .description = "IPv4 range of the subnet, within the VPC's, e.g. \"10.0.1.0/24\"" },
	{ .name = "availability_zone", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Availability zone name, e.g. \"eu-west-1a\"; AWS picks one if unset" },
	{ .name = "availability_zone_id", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Availability zone ID, e.g. \"euw1-az1\"; instead of availability_zone" },
	{ .name = "map_public_ip_on_launch", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Give instances launched into the subnet a public IPv4 address" },
	{ .name = "assign_ipv6_address_on_creation", .type = &schema_bool,
	  .flags = SF_OPTIONAL, .default_value = "false",
	  .description = "Give network interfaces created in the subnet an IPv6 address" },
	{ .name = "ipv6_cidr_block", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_CIDR,
	  .description = "IPv6 /64 range of the subnet, within the VPC's" },
	ATTR_TAGS,
	ATTR_ID("Subnet ID (subnet-...)"),
	ATTR_ARN("ARN of the subnet"),
	ATTR_OWNER_ID,
	{ .name = NULL }
};

/* ---- route_table ------------------------------------------------------------------- */

/* Exactly one destination and one target per route; the provider checks that. */
static const struct schema_attr route_attrs[] = {
	{ .name = "cidr_block", .type = &schema_string, .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "IPv4 destination range, e.g. \"0.0.0.0/0\"" },
	{ .name = "ipv6_cidr_block", .type = &schema_string, .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "IPv6 destination range, e.g. \"::/0\"" },
	{ .name = "destination_prefix_list_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Managed prefix list as the destination" },
	{ .name = "gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Internet or virtual private gateway as the target" },
	{ .name = "nat_gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "NAT gateway as the target" },
	{ .name = "network_interface_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Network interface as the target" },
	{ .name = "vpc_peering_connection_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "VPC peering connection as the target" },
	{ .name = "transit_gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Transit gateway as the target" },
	{ .name = "vpc_endpoint_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Gateway load balancer VPC endpoint as the target" },
	{ .name = "egress_only_gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Egress-only internet gateway as the target" },
	{ .name = "carrier_gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Carrier gateway as the target (Wavelength zones)" },
	{ .name = "local_gateway_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Outpost local gateway as the target" },
	{ .name = "core_network_arn", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Cloud WAN core network as the target" },
	{ .name = NULL }
};

static const struct schema_block route_block = { .attrs = route_attrs };

static const struct schema_nested route_table_blocks[] = {
	/* Optional+computed as in Terraform: with no route blocks, routes made elsewhere
	 * (aws_route, propagation) are not a diff. */
	{ .name = "route", .block = &route_block, .is_set = 1,
	  .flags = SF_OPTIONAL | SF_COMPUTED },
	{ .name = NULL }
};

static const struct schema_attr route_table_attrs[] = {
	{ .name = "vpc_id", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "VPC the route table belongs to" },
	{ .name = "propagating_vgws", .type = &schema_set_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Virtual private gateways that propagate routes into the table" },
	ATTR_TAGS,
	ATTR_ID("Route table ID (rtb-...)"),
	ATTR_ARN("ARN of the route table"),
	ATTR_OWNER_ID,
	{ .name = NULL }
};

/* ---- route_table_association ------------------------------------------------------- */

static const struct schema_attr route_table_association_attrs[] = {
	/* Exactly one of subnet_id and gateway_id. */
	{ .name = "subnet_id", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Subnet to associate; exactly one of subnet_id and gateway_id" },
	{ .name = "gateway_id", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Internet or virtual private gateway to associate (edge association)" },
	/* Not force-new: ReplaceRouteTableAssociation swaps the table in place. */
	{ .name = "route_table_id", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Route table to associate with" },
	ATTR_ID("Association ID (rtbassoc-...)"),
	{ .name = NULL }
};

/* ---- security_group ---------------------------------------------------------------- */

static const struct schema_attr sg_rule_attrs[] = {
	{ .name = "from_port", .type = &schema_number, .flags = SF_REQUIRED,
	  .description = "Start of the port range (ICMP type for icmp)" },
	{ .name = "to_port", .type = &schema_number, .flags = SF_REQUIRED,
	  .description = "End of the port range (ICMP code for icmp)" },
	{ .name = "protocol", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "\"tcp\", \"udp\", \"icmp\", a protocol number, or \"-1\" for all" },
	{ .name = "cidr_blocks", .type = &schema_list_of_string, .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "IPv4 ranges the rule applies to" },
	{ .name = "ipv6_cidr_blocks", .type = &schema_list_of_string,
	  .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "IPv6 ranges the rule applies to" },
	{ .name = "prefix_list_ids", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Managed prefix lists the rule applies to" },
	{ .name = "security_groups", .type = &schema_set_of_string, .flags = SF_OPTIONAL,
	  .description = "Security group IDs (sg-...) the rule applies to" },
	{ .name = "self", .type = &schema_bool, .flags = SF_OPTIONAL, .default_value = "false",
	  .description = "Whether the group itself is a source or destination" },
	{ .name = "description", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Description of the rule" },
	{ .name = NULL }
};

static const struct schema_block sg_rule_block = { .attrs = sg_rule_attrs };

static const struct schema_nested security_group_blocks[] = {
	/* Optional+computed as in Terraform: without blocks, rules managed by separate rule
	 * resources are not a diff; an empty list (ingress = []) removes them all. */
	{ .name = "ingress", .block = &sg_rule_block, .is_set = 1,
	  .flags = SF_OPTIONAL | SF_COMPUTED },
	{ .name = "egress", .block = &sg_rule_block, .is_set = 1,
	  .flags = SF_OPTIONAL | SF_COMPUTED },
	{ .name = NULL }
};

static const struct schema_attr security_group_attrs[] = {
	{ .name = "name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Group name; generated from name_prefix or at random if unset" },
	{ .name = "name_prefix", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Prefix of a generated unique name; conflicts with name" },
	/* AWS cannot change a group's description, hence force-new. */
	{ .name = "description", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"Managed by stk\"",
	  .description = "Group description" },
	{ .name = "vpc_id", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "VPC to create the group in; the default VPC if unset" },
	{ .name = "revoke_rules_on_delete", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Revoke all rules before deleting, to break references between groups" },
	ATTR_TAGS,
	ATTR_ID("Security group ID (sg-...)"),
	ATTR_ARN("ARN of the security group"),
	ATTR_OWNER_ID,
	{ .name = NULL }
};

/* ---- key_pair ---------------------------------------------------------------------- */

static const struct schema_attr key_pair_attrs[] = {
	{ .name = "key_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Key pair name; generated from key_name_prefix or at random if unset" },
	{ .name = "key_name_prefix", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Prefix of a generated unique name; conflicts with key_name" },
	{ .name = "public_key", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Public key material in OpenSSH authorized_keys format" },
	ATTR_TAGS,
	ATTR_ID("Key pair name, as used by import"),
	ATTR_ARN("ARN of the key pair"),
	{ .name = "fingerprint", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "MD5 fingerprint of the public key" },
	{ .name = "key_pair_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Key pair ID (key-...)" },
	{ .name = "key_type", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Key type: \"rsa\" or \"ed25519\"" },
	{ .name = NULL }
};

/* ---- instance ---------------------------------------------------------------------- */

static const struct schema_attr root_block_device_attrs[] = {
	{ .name = "volume_size", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Size of the root volume in GiB; can grow in place" },
	{ .name = "volume_type", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "EBS volume type, e.g. \"gp3\"" },
	{ .name = "iops", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Provisioned IOPS (io1, io2, gp3)" },
	{ .name = "throughput", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Throughput in MiB/s (gp3)" },
	{ .name = "encrypted", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Whether the root volume is encrypted" },
	{ .name = "kms_key_id", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "KMS key to encrypt the root volume with" },
	{ .name = "delete_on_termination", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "true",
	  .description = "Delete the root volume when the instance terminates" },
	{ .name = "tags", .type = &schema_map_of_string, .flags = SF_OPTIONAL,
	  .description = "Tags to assign to the root volume" },
	{ .name = "device_name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Device name of the root volume, e.g. \"/dev/xvda\"" },
	{ .name = "volume_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the root volume (vol-...)" },
	{ .name = NULL }
};

static const struct schema_block root_block_device_block = { .attrs = root_block_device_attrs };

static const struct schema_attr metadata_options_attrs[] = {
	{ .name = "http_endpoint", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Instance metadata service: \"enabled\" or \"disabled\"" },
	{ .name = "http_tokens", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "\"required\" for IMDSv2 only, or \"optional\"" },
	{ .name = "http_put_response_hop_limit", .type = &schema_number,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Hop limit of metadata PUT responses, 1 to 64" },
	{ .name = "instance_metadata_tags", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Expose instance tags in the metadata: \"enabled\" or \"disabled\"" },
	{ .name = NULL }
};

static const struct schema_block metadata_options_block = { .attrs = metadata_options_attrs };

static const struct schema_nested instance_blocks[] = {
	{ .name = "root_block_device", .block = &root_block_device_block, .max_items = 1,
	  .flags = SF_OPTIONAL | SF_COMPUTED },
	{ .name = "metadata_options", .block = &metadata_options_block, .max_items = 1,
	  .flags = SF_OPTIONAL | SF_COMPUTED },
	{ .name = NULL }
};

static const struct schema_attr instance_attrs[] = {
	/* Terraform: ami and instance_type are optional, for launch templates, which we do
	 * not offer. */
	{ .name = "ami", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "AMI to launch, e.g. from the ami data source" },
	/* Changed in place by stopping and starting the instance. */
	{ .name = "instance_type", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Instance type, e.g. \"t3.micro\"; a change stops and starts it" },
	{ .name = "subnet_id", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Subnet to launch in; the default VPC's if unset" },
	{ .name = "vpc_security_group_ids", .type = &schema_set_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Security groups of the primary network interface" },
	{ .name = "key_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Key pair to install for SSH access" },
	/* As in Terraform, not force-new: a change is applied by stop, modify, start, unless
	 * user_data_replace_on_change asks for a replacement. */
	{ .name = "user_data", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .force_new_if = "user_data_replace_on_change",
	  .description = "User data passed to the instance at boot (cloud-init), up to 16 KiB" },
	{ .name = "user_data_replace_on_change", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Replace the instance, rather than restart it, when user_data changes" },
	{ .name = "associate_public_ip_address", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Give the instance a public IPv4 address; the subnet decides if unset" },
	{ .name = "availability_zone", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Availability zone to launch in; follows subnet_id if unset" },
	{ .name = "private_ip", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Primary private IPv4 address; assigned from the subnet if unset" },
	{ .name = "iam_instance_profile", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "IAM instance profile name to attach" },
	{ .name = "monitoring", .type = &schema_bool, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Enable detailed (1-minute) CloudWatch monitoring" },
	{ .name = "ebs_optimized", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Launch as EBS-optimized" },
	{ .name = "disable_api_termination", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Protect the instance from termination through the API" },
	{ .name = "source_dest_check", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "true",
	  .description = "Drop traffic not addressed to the instance; false for NAT or VPN" },
	{ .name = "volume_tags", .type = &schema_map_of_string, .flags = SF_OPTIONAL,
	  .description = "Tags to assign to the volumes attached at launch" },
	ATTR_TAGS,
	ATTR_ID("Instance ID (i-...)"),
	ATTR_ARN("ARN of the instance"),
	{ .name = "public_ip", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Public IPv4 address, if any; changes on stop and start" },
	{ .name = "public_dns", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Public DNS name, if the VPC has DNS hostnames enabled" },
	{ .name = "private_dns", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Private DNS name" },
	{ .name = "instance_state", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "State, e.g. \"running\" or \"stopped\"" },
	{ .name = "primary_network_interface_id", .type = &schema_string,
	  .flags = SF_COMPUTED,
	  .description = "ID of the primary network interface (eni-...)" },
	{ .name = NULL }
};

/* ---- db_subnet_group --------------------------------------------------------------- */

static const struct schema_attr db_subnet_group_attrs[] = {
	{ .name = "name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Group name, lower case; generated if unset" },
	{ .name = "name_prefix", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Prefix of a generated unique name; conflicts with name" },
	{ .name = "description", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"Managed by stk\"",
	  .description = "Group description" },
	{ .name = "subnet_ids", .type = &schema_set_of_string, .flags = SF_REQUIRED,
	  .description = "Subnets of the group, in at least two availability zones" },
	ATTR_TAGS,
	ATTR_ID("Group name"),
	ATTR_ARN("ARN of the DB subnet group"),
	{ .name = "supported_network_types", .type = &schema_set_of_string,
	  .flags = SF_COMPUTED,
	  .description = "Network types the group supports: \"IPV4\", \"DUAL\"" },
	{ .name = "vpc_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "VPC of the subnets" },
	{ .name = NULL }
};

/* ---- db_instance ------------------------------------------------------------------- */

static const struct schema_attr db_instance_attrs[] = {
	{ .name = "identifier", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "DB instance identifier; generated if unset" },
	{ .name = "identifier_prefix", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Prefix of a generated unique identifier; conflicts with identifier" },
	/* Optional as in Terraform: a restore from snapshot takes the snapshot's engine. */
	{ .name = "engine", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Database engine, e.g. \"postgres\" or \"mysql\"" },
	{ .name = "engine_version", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Engine version; a prefix (\"16\") takes the latest minor version" },
	{ .name = "instance_class", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Instance class, e.g. \"db.t4g.micro\"" },
	{ .name = "allocated_storage", .type = &schema_number,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Storage in GiB" },
	{ .name = "max_allocated_storage", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Upper limit in GiB for storage autoscaling; 0 disables it" },
	{ .name = "storage_type", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "\"gp2\", \"gp3\", \"io1\", \"io2\" or \"standard\"" },
	{ .name = "iops", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Provisioned IOPS (io1, io2, gp3)" },
	{ .name = "storage_encrypted", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Encrypt the storage" },
	{ .name = "kms_key_id", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "ARN of the KMS key for storage encryption" },
	{ .name = "db_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Name of the database to create with the instance" },
	{ .name = "username", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Master user name" },
	/* Write-only: RDS never returns it, so there is nothing to compare against. */
	{ .name = "password", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_SENSITIVE | SF_WRITE_ONLY,
	  .description = "Master user password; never read back" },
	{ .name = "port", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Port the database listens on; the engine's default if unset" },
	{ .name = "db_subnet_group_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "DB subnet group to place the instance in" },
	{ .name = "vpc_security_group_ids", .type = &schema_set_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "VPC security groups of the instance" },
	{ .name = "availability_zone", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Availability zone; conflicts with multi_az" },
	{ .name = "publicly_accessible", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Give the instance a public endpoint" },
	{ .name = "multi_az", .type = &schema_bool, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Keep a standby replica in another availability zone" },
	{ .name = "parameter_group_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "DB parameter group to associate" },
	{ .name = "option_group_name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "DB option group to associate" },
	{ .name = "backup_retention_period", .type = &schema_number,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Days to keep automated backups, 0 to 35; 0 disables them" },
	{ .name = "backup_window", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Daily UTC backup window, e.g. \"03:00-04:00\"" },
	{ .name = "maintenance_window", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Weekly UTC maintenance window, e.g. \"sun:05:00-sun:06:00\"" },
	{ .name = "apply_immediately", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Apply changes now rather than in the next maintenance window" },
	{ .name = "auto_minor_version_upgrade", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "true",
	  .description = "Upgrade minor engine versions in the maintenance window" },
	{ .name = "allow_major_version_upgrade", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .description = "Allow engine_version to change the major version" },
	{ .name = "skip_final_snapshot", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Delete without a final snapshot" },
	{ .name = "final_snapshot_identifier", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Snapshot taken on delete; required unless skip_final_snapshot" },
	{ .name = "snapshot_identifier", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Snapshot to create the instance from" },
	{ .name = "copy_tags_to_snapshot", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Copy the instance's tags to its snapshots" },
	{ .name = "deletion_protection", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .description = "Refuse to delete the instance while true" },
	{ .name = "iam_database_authentication_enabled", .type = &schema_bool,
	  .flags = SF_OPTIONAL,
	  .description = "Allow IAM users and roles to log in to the database" },
	{ .name = "performance_insights_enabled", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Enable Performance Insights" },
	{ .name = "monitoring_interval", .type = &schema_number, .flags = SF_OPTIONAL,
	  .default_value = "0",
	  .description = "Enhanced monitoring interval in seconds; 0 disables it" },
	{ .name = "ca_cert_identifier", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Certificate authority of the server certificate" },
	ATTR_TAGS,
	ATTR_ID("RDS resource ID of the instance (db-...)"),
	ATTR_ARN("ARN of the DB instance"),
	{ .name = "address", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Host name of the endpoint, without the port" },
	{ .name = "endpoint", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Connection endpoint as \"host:port\"" },
	{ .name = "hosted_zone_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Route 53 hosted zone of the endpoint, for alias records" },
	{ .name = "resource_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Region-unique, immutable RDS resource ID" },
	{ .name = "status", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Status, e.g. \"available\"" },
	{ .name = "engine_version_actual", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Exact engine version running" },
	{ .name = "latest_restorable_time", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Latest time the instance can be restored to (RFC 3339)" },
	{ .name = NULL }
};

/* ---- ecr_repository ---------------------------------------------------------------- */

static const struct schema_attr image_scanning_configuration_attrs[] = {
	{ .name = "scan_on_push", .type = &schema_bool, .flags = SF_REQUIRED,
	  .description = "Scan images for vulnerabilities when they are pushed" },
	{ .name = NULL }
};

static const struct schema_block image_scanning_configuration_block = {
	.attrs = image_scanning_configuration_attrs,
};

static const struct schema_attr ecr_encryption_configuration_attrs[] = {
	{ .name = "encryption_type", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"AES256\"",
	  .description = "\"AES256\" or \"KMS\"" },
	{ .name = "kms_key", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "ARN of the KMS key, for \"KMS\"; the AWS managed key if unset" },
	{ .name = NULL }
};

static const struct schema_block ecr_encryption_configuration_block = {
	.attrs = ecr_encryption_configuration_attrs,
};

static const struct schema_nested ecr_repository_blocks[] = {
	{ .name = "image_scanning_configuration", .block = &image_scanning_configuration_block,
	  .max_items = 1, .flags = SF_OPTIONAL },
	{ .name = "encryption_configuration", .block = &ecr_encryption_configuration_block,
	  .max_items = 1, .flags = SF_OPTIONAL | SF_FORCE_NEW },
	{ .name = NULL }
};

static const struct schema_attr ecr_repository_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Repository name, e.g. \"team/app\"" },
	{ .name = "image_tag_mutability", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"MUTABLE\"",
	  .description = "\"MUTABLE\" or \"IMMUTABLE\": whether a pushed tag can be overwritten" },
	{ .name = "force_delete", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .description = "Delete the repository even if it still holds images" },
	/* Our extension: the common case without a nested block. */
	{ .name = "scan_on_push", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .description = "Short for image_scanning_configuration { scan_on_push }" },
	ATTR_TAGS,
	ATTR_ID("Repository name"),
	ATTR_ARN("ARN of the repository"),
	{ .name = "registry_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the registry (the AWS account ID)" },
	{ .name = "repository_url", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "URL to push to: \"<account>.dkr.ecr.<region>.amazonaws.com/<name>\"" },
	/* Our extension: what a docker registry block and docker login need. */
	{ .name = "registry", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Registry host part of repository_url" },
	{ .name = NULL }
};

/* ---- eip --------------------------------------------------------------------------- */

static const struct schema_attr eip_attrs[] = {
	{ .name = "domain", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"vpc\"",
	  .description = "\"vpc\": an address for instances in a VPC, the only kind AWS still makes" },
	{ .name = "instance", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "ID of the EC2 instance to put the address on; changing it moves the address" },
	ATTR_TAGS,
	ATTR_ID("Allocation ID (eipalloc-...)"),
	{ .name = "allocation_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Allocation ID, the same as id" },
	{ .name = "association_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the association with the instance, while there is one" },
	{ .name = "network_interface", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the network interface the address is on" },
	{ .name = "public_ip", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "The public IPv4 address" },
	{ .name = "private_ip", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "The private IPv4 address it maps to, while it is on an instance" },
	{ .name = "public_dns", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Public DNS name of the address" },
	{ .name = "private_dns", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Private DNS name of the address it maps to" },
	ATTR_ARN("ARN of the Elastic IP"),
	{ .name = NULL }
};

/* ---- resources --------------------------------------------------------------------- */

static const struct schema_resource aws_resources[] = {
	{
		.type = "vpc",
		.description = "A virtual private cloud: an isolated IPv4 network",
		.block = { .attrs = vpc_attrs },
		.id_attr = "id",
	},
	{
		.type = "internet_gateway",
		.description = "An internet gateway, giving a VPC a route to the internet",
		.block = { .attrs = internet_gateway_attrs },
		.timeouts = { .create = 20 * MIN, .update = 20 * MIN, .delete = 20 * MIN },
		.id_attr = "id",
	},
	{
		.type = "subnet",
		.description = "A subnet: a range of a VPC's addresses in one availability zone",
		.block = { .attrs = subnet_attrs },
		.timeouts = { .create = 10 * MIN, .delete = 20 * MIN },
		.id_attr = "id",
	},
	{
		.type = "route_table",
		.description = "A VPC route table with its inline routes",
		.block = { .attrs = route_table_attrs, .blocks = route_table_blocks },
		.timeouts = { .create = 5 * MIN, .update = 2 * MIN, .delete = 5 * MIN },
		.id_attr = "id",
	},
	{
		.type = "route_table_association",
		.description = "The association of a route table with a subnet or gateway",
		.block = { .attrs = route_table_association_attrs },
		.id_attr = "id",
	},
	{
		.type = "security_group",
		.description = "A security group with its inline ingress and egress rules",
		.block = { .attrs = security_group_attrs, .blocks = security_group_blocks },
		.timeouts = { .create = 10 * MIN, .delete = 15 * MIN },
		.id_attr = "id",
	},
	{
		.type = "key_pair",
		.description = "An EC2 key pair, imported from an existing public key",
		.block = { .attrs = key_pair_attrs },
		.id_attr = "key_name",
	},
	{
		.type = "instance",
		.description = "An EC2 instance",
		.block = { .attrs = instance_attrs, .blocks = instance_blocks },
		.timeouts = { .create = 10 * MIN, .update = 10 * MIN, .delete = 20 * MIN },
		.id_attr = "id",
	},
	{
		.type = "eip",
		.description = "An Elastic IP address, optionally on an instance",
		.block = { .attrs = eip_attrs },
		.timeouts = { .update = 5 * MIN, .delete = 3 * MIN },
		.id_attr = "id",
	},
	{
		.type = "db_subnet_group",
		.description = "An RDS DB subnet group: the subnets a DB instance may use",
		.block = { .attrs = db_subnet_group_attrs },
		.id_attr = "id",
	},
	{
		.type = "db_instance",
		.description = "An RDS DB instance",
		.block = { .attrs = db_instance_attrs },
		.timeouts = { .create = 40 * MIN, .update = 80 * MIN, .delete = 60 * MIN },
		.id_attr = "identifier",
	},
	{
		.type = "ecr_repository",
		.description = "An ECR repository for container images",
		.block = { .attrs = ecr_repository_attrs, .blocks = ecr_repository_blocks },
		.timeouts = { .delete = 20 * MIN },
		.id_attr = "name",
	},
	{ .type = NULL }
};

/* ---- data sources ------------------------------------------------------------------ */

static const struct schema_attr filter_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "API filter name, e.g. \"architecture\"" },
	{ .name = "values", .type = &schema_list_of_string, .flags = SF_REQUIRED,
	  .description = "Values to match; any one matching is enough, \"*\" is a wildcard" },
	{ .name = NULL }
};

static const struct schema_block filter_block = { .attrs = filter_attrs };

static const struct schema_nested filter_blocks[] = {
	{ .name = "filter", .block = &filter_block, .is_set = 1, .flags = SF_OPTIONAL },
	{ .name = NULL }
};

static const struct schema_attr ami_block_device_attrs[] = {
	{ .name = "device_name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Device name, e.g. \"/dev/xvda\"" },
	{ .name = "ebs", .type = &schema_map_of_string, .flags = SF_COMPUTED,
	  .description = "EBS settings such as volume_size, volume_type, snapshot_id, encrypted" },
	{ .name = "no_device", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Set when the mapping suppresses a device" },
	{ .name = "virtual_name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Instance store name, e.g. \"ephemeral0\"" },
	{ .name = NULL }
};

static const struct schema_type ami_block_device_type = {
	.kind = SK_OBJECT, .attrs = ami_block_device_attrs,
};

static const struct schema_type ami_block_devices_type = {
	.kind = SK_SET, .elem = &ami_block_device_type,
};

static const struct schema_attr ami_data_attrs[] = {
	{ .name = "owners", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Account IDs or aliases (\"amazon\", \"self\") the AMI may belong to" },
	{ .name = "most_recent", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Take the newest match instead of failing on several" },
	/* Our shorthand for filter { name = "name", values = [...] }; also the result. */
	{ .name = "name", .type = &schema_string, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Name pattern to match (\"*\" wildcards); then the AMI's name" },
	{ .name = "name_regex", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Regular expression the name must match, applied after the filters" },
	{ .name = "executable_users", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Only AMIs these users may launch (\"self\" or account IDs)" },
	{ .name = "include_deprecated", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Also match deprecated AMIs" },
	ATTR_ID("AMI ID (ami-...)"),
	ATTR_ARN("ARN of the AMI"),
	{ .name = "image_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "AMI ID (ami-...), same as id" },
	{ .name = "architecture", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Architecture, e.g. \"x86_64\" or \"arm64\"" },
	{ .name = "creation_date", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "When the AMI was created (RFC 3339)" },
	{ .name = "deprecation_time", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "When the AMI is or was deprecated, if set" },
	{ .name = "description", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Description of the AMI" },
	{ .name = "owner_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Account ID of the owner" },
	{ .name = "image_owner_alias", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Owner alias, e.g. \"amazon\", if any" },
	{ .name = "image_location", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Location of the AMI manifest" },
	{ .name = "image_type", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Image type, e.g. \"machine\"" },
	{ .name = "platform", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"windows\" for Windows AMIs, else empty" },
	{ .name = "platform_details", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Platform details, e.g. \"Linux/UNIX\"" },
	{ .name = "public", .type = &schema_bool, .flags = SF_COMPUTED,
	  .description = "Whether anyone may launch the AMI" },
	{ .name = "root_device_name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Device name of the root volume, e.g. \"/dev/xvda\"" },
	{ .name = "root_device_type", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"ebs\" or \"instance-store\"" },
	{ .name = "root_snapshot_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Snapshot of the root volume, for EBS-backed AMIs" },
	{ .name = "virtualization_type", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"hvm\" or \"paravirtual\"" },
	{ .name = "boot_mode", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Boot mode, e.g. \"uefi\" or \"legacy-bios\"" },
	{ .name = "ena_support", .type = &schema_bool, .flags = SF_COMPUTED,
	  .description = "Whether enhanced networking (ENA) is enabled" },
	{ .name = "hypervisor", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Hypervisor type, e.g. \"xen\"" },
	{ .name = "kernel_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Kernel of paravirtual AMIs" },
	{ .name = "ramdisk_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "RAM disk of paravirtual AMIs" },
	{ .name = "sriov_net_support", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"simple\" if Intel 82599 enhanced networking is enabled" },
	{ .name = "state", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "State, e.g. \"available\"" },
	{ .name = "usage_operation", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Billing operation code, e.g. \"RunInstances\"" },
	{ .name = "block_device_mappings", .type = &ami_block_devices_type,
	  .flags = SF_COMPUTED,
	  .description = "Block devices the AMI launches with" },
	{ .name = "tags", .type = &schema_map_of_string, .flags = SF_COMPUTED,
	  .description = "Tags of the AMI" },
	{ .name = NULL }
};

static const struct schema_attr availability_zones_attrs[] = {
	{ .name = "state", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Only zones in this state, e.g. \"available\"" },
	{ .name = "all_availability_zones", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .description = "Also list Local Zones and Wavelength Zones, opted in or not" },
	{ .name = "exclude_names", .type = &schema_set_of_string, .flags = SF_OPTIONAL,
	  .description = "Zone names to leave out" },
	{ .name = "exclude_zone_ids", .type = &schema_set_of_string, .flags = SF_OPTIONAL,
	  .description = "Zone IDs to leave out" },
	ATTR_ID("Region the zones are in"),
	{ .name = "names", .type = &schema_list_of_string, .flags = SF_COMPUTED,
	  .description = "Zone names, e.g. [\"eu-west-1a\", ...], sorted" },
	{ .name = "zone_ids", .type = &schema_list_of_string, .flags = SF_COMPUTED,
	  .description = "Zone IDs, in the same order as names" },
	{ .name = "group_names", .type = &schema_set_of_string, .flags = SF_COMPUTED,
	  .description = "Zone group names" },
	{ .name = NULL }
};

static const struct schema_attr caller_identity_attrs[] = {
	ATTR_ID("AWS account ID, same as account_id"),
	{ .name = "account_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "ID of the AWS account the credentials belong to" },
	ATTR_ARN("ARN of the user or role the credentials belong to"),
	{ .name = "user_id", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Unique ID of the calling user or role" },
	{ .name = NULL }
};

/* Terraform's aws_ecr_authorization_token, renamed; "username" (Terraform: user_name)
 * matches the docker provider's registry block. */
static const struct schema_attr ecr_token_attrs[] = {
	{ .name = "registry_id", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Account ID of the registry; the caller's if unset" },
	ATTR_ID("Region of the registry"),
	{ .name = "username", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "User name for docker login (\"AWS\")" },
	{ .name = "password", .type = &schema_string, .flags = SF_COMPUTED | SF_SENSITIVE,
	  .description = "Password for docker login, valid for 12 hours" },
	{ .name = "authorization_token", .type = &schema_string,
	  .flags = SF_COMPUTED | SF_SENSITIVE,
	  .description = "Base64 of \"user:password\", as in a Docker config.json" },
	{ .name = "proxy_endpoint", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Registry URL, \"https://<account>.dkr.ecr.<region>.amazonaws.com\"" },
	{ .name = "expires_at", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "When the token expires (RFC 3339)" },
	{ .name = NULL }
};

static const struct schema_resource aws_data_sources[] = {
	{
		.type = "ami",
		.description = "Looks up an AMI by owner, name and filters",
		.block = { .attrs = ami_data_attrs, .blocks = filter_blocks },
	},
	{
		.type = "availability_zones",
		.description = "Lists the availability zones of the region",
		.block = { .attrs = availability_zones_attrs, .blocks = filter_blocks },
	},
	{
		.type = "caller_identity",
		.description = "The account and principal the provider's credentials belong to",
		.block = { .attrs = caller_identity_attrs },
	},
	{
		.type = "ecr_token",
		.description = "A temporary ECR login for docker push and pull",
		.block = { .attrs = ecr_token_attrs },
	},
	{ .type = NULL }
};

const struct schema_provider schema_aws = {
	.name = "aws",
	.config = { .attrs = aws_config_attrs },
	.resources = aws_resources,
	.data_sources = aws_data_sources,
};
