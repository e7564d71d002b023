/* ec2_instance.c: aws.instance through the EC2 query API. A refresh of any number of
 * instances is one DescribeInstances (paginated) and one DescribeVolumes for their root
 * volumes. Creates, type changes and deletes wait for the instance to settle, polling with a
 * capped backoff, so that what follows (an SSH provisioner, a dependent resource) finds it
 * running, or gone. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "providers/aws/aws.h"

#define EC2_VERSION "2016-11-15"
#define DEFAULT_TIMEOUT_S 600

/* ---- small helpers ---- */

static const struct value *attr(const struct value *m, const char *key)
{
	const struct value *v = m && m->kind == VAL_MAP ? val_map_get(m, key) : NULL;
	return v && !(v->marks & VAL_UNKNOWN) && v->kind != VAL_NULL ? v : NULL;
}

/* A number attribute, or -1 when unset or unknown. */
static double num(const struct value *m, const char *key)
{
	const struct value *v = attr(m, key);
	return v && v->kind == VAL_NUMBER ? v->u.n : -1;
}

static const struct value *first_block(const struct value *m, const char *name)
{
	const struct value *l = attr(m, name);

	if (!l || (l->kind != VAL_LIST && l->kind != VAL_SET) || !l->u.list.n)
		return NULL;
	return l->u.list.items[0];
}

static int same(const struct value *x, const struct value *y)
{
	if (!x || !y)
		return !x == !y;
	return val_equal(x, y);
}

static char *base64(const char *s)
{
	size_t n = strlen(s);
	unsigned char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
	return (char *)out;
}

/* An attribute that is a string set -> Key.1, Key.2 ... */
static size_t put_set(struct aws_params *p, const char *prefix, const struct value *set)
{
	char key[96];
	size_t n = 0;

	if (!set || (set->kind != VAL_SET && set->kind != VAL_LIST))
		return 0;
	for (size_t i = 0; i < set->u.list.n; i++) {
		const struct value *v = set->u.list.items[i];
		if (v->kind != VAL_STRING || (v->marks & VAL_UNKNOWN))
			continue;
		snprintf(key, sizeof key, "%s.%zu", prefix, ++n);
		aws_param(p, key, "%s", v->u.str.s);
	}
	return n;
}

/* ---- reading ---- */

/* The root volumes' details by volume id: one DescribeVolumes for all of them. */
static xmlDoc *describe_volumes(struct aws *a, const char *const *vols, size_t n,
				struct diag_ctx *diag)
{
	struct aws_params p;
	char key[64];
	size_t k = 0;

	aws_params_init(&p);
	aws_param(&p, "Filter.1.Name", "volume-id");
	for (size_t i = 0; i < n; i++)
		if (vols[i]) {
			snprintf(key, sizeof key, "Filter.1.Value.%zu", ++k);
			aws_param(&p, key, "%s", vols[i]);
		}
	if (!k) {
		aws_params_release(&p);
		return NULL;
	}
	xmlDoc *doc = aws_query(a, "ec2", EC2_VERSION, "DescribeVolumes", &p, diag, NULL);
	aws_params_release(&p);
	return doc;
}

static xmlNode *volume_item(xmlDoc *vols, const char *id)
{
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(aws_xml_root(vols), "volumeSet")); id && it;
	     it = aws_xml_next_item(it)) {
		const char *v = aws_xml_text(it, "volumeId");
		if (v && !strcmp(v, id))
			return it;
	}
	return NULL;
}

static const char *root_volume_id(xmlNode *inst)
{
	const char *root = aws_xml_text(inst, "rootDeviceName");

	for (xmlNode *it = aws_xml_first_item(aws_xml_child(inst, "blockDeviceMapping")); root && it;
	     it = aws_xml_next_item(it)) {
		const char *dev = aws_xml_text(it, "deviceName");
		if (dev && !strcmp(dev, root))
			return aws_xml_text(it, "ebs/volumeId");
	}
	return NULL;
}

static int xml_true(xmlNode *n, const char *path, int dflt)
{
	const char *v = aws_xml_text(n, path);
	return v && *v ? !strcmp(v, "true") : dflt;
}

static double xml_num(xmlNode *n, const char *path)
{
	const char *v = aws_xml_text(n, path);
	return v && *v ? atof(v) : 0;
}

static struct value *root_block_value(xmlNode *inst, xmlDoc *vols, const struct value *prior)
{
	const char *vol = root_volume_id(inst);
	xmlNode *v = volume_item(vols, vol);
	const struct value *pb = first_block(prior, "root_block_device");
	const char *root = aws_xml_text(inst, "rootDeviceName");
	struct aws_obj o;

	if (!vol)
		return val_empty_list();
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(inst, "blockDeviceMapping")); it;
	     it = aws_xml_next_item(it)) {
		const char *dev = aws_xml_text(it, "deviceName");
		if (dev && root && !strcmp(dev, root)) {
			root = NULL;
			aws_obj_init(&o);
			aws_obj_bool(&o, "delete_on_termination", xml_true(it, "ebs/deleteOnTermination", 1));
			goto found;
		}
	}
	return val_empty_list();
found:
	aws_obj_str(&o, "device_name", aws_xml_text(inst, "rootDeviceName"));
	aws_obj_str(&o, "volume_id", vol);
	aws_obj_num(&o, "volume_size", xml_num(v, "size"));
	aws_obj_str(&o, "volume_type", v ? aws_xml_text(v, "volumeType") : NULL);
	aws_obj_num(&o, "iops", xml_num(v, "iops"));
	aws_obj_num(&o, "throughput", xml_num(v, "throughput"));
	aws_obj_bool(&o, "encrypted", v ? xml_true(v, "encrypted", 0) : 0);
	aws_obj_str(&o, "kms_key_id", v ? aws_xml_text(v, "kmsKeyId") : NULL);
	/* the volume's own tags would mix in volume_tags; the configured ones are what we set */
	aws_obj_val(&o, "tags", attr(pb, "tags") ? val_ref((struct value *)attr(pb, "tags")) : val_null());
	struct value *item = aws_obj_done(&o);
	return val_list_take(&item, 1);
}

static struct value *metadata_value(xmlNode *inst)
{
	xmlNode *m = aws_xml_child(inst, "metadataOptions");
	const char *hop = aws_xml_text(m, "httpPutResponseHopLimit");
	struct aws_obj o;

	/* EC2's defaults, for an answer that leaves them out */
	aws_obj_init(&o);
	aws_obj_str(&o, "http_endpoint", aws_xml_text(m, "httpEndpoint") ?: "enabled");
	aws_obj_str(&o, "http_tokens", aws_xml_text(m, "httpTokens") ?: "optional");
	aws_obj_num(&o, "http_put_response_hop_limit", hop && *hop ? atof(hop) : 1);
	aws_obj_str(&o, "instance_metadata_tags", aws_xml_text(m, "instanceMetadataTags") ?: "disabled");
	struct value *item = aws_obj_done(&o);
	return val_list_take(&item, 1);
}

static struct value *prior_or(const struct value *prior, const char *key, struct value *dflt)
{
	const struct value *v = attr(prior, key);

	if (!v)
		return dflt;
	val_unref(dflt);
	return val_ref((struct value *)v);
}

static struct value *instance_value(struct aws *a, xmlNode *inst, const char *owner, xmlDoc *vols,
				    const struct value *prior)
{
	const char *id = aws_xml_text(inst, "instanceId");
	const char *profile = aws_xml_text(inst, "iamInstanceProfile/arn");
	const char *pub = aws_xml_text(inst, "ipAddress");
	const char *eni = NULL;
	struct buf groups = BUF_INIT;
	struct aws_obj o;

	xmlNode *primary = NULL;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(inst, "networkInterfaceSet")); it;
	     it = aws_xml_next_item(it)) {
		const char *dev = aws_xml_text(it, "attachment/deviceIndex");
		if (!primary || (dev && !strcmp(dev, "0")))
			primary = it;
	}
	eni = aws_xml_text(primary, "networkInterfaceId");
	/* EC2 lists the primary interface's groups on the instance too; should that list be
	 * empty (moto, after a launch with a NetworkInterface), the interface's are the ones */
	xmlNode *gset = aws_xml_first_item(aws_xml_child(inst, "groupSet")) ? aws_xml_child(inst, "groupSet") :
			aws_xml_child(primary, "groupSet");
	for (xmlNode *it = aws_xml_first_item(gset); it; it = aws_xml_next_item(it))
		if (aws_xml_text(it, "groupId"))
			buf_push(&groups, struct value *, val_cstring(aws_xml_text(it, "groupId")));
	if (profile && strrchr(profile, '/'))
		profile = strrchr(profile, '/') + 1;
	aws_obj_init(&o);
	aws_obj_str(&o, "id", id);
	char *arn = xasprintf("arn:aws:ec2:%s:%s:instance/%s", a->region, owner ? owner : "", id);
	aws_obj_val(&o, "arn", val_string_take(arn, strlen(arn)));
	aws_obj_str(&o, "ami", aws_xml_text(inst, "imageId"));
	aws_obj_str(&o, "instance_type", aws_xml_text(inst, "instanceType"));
	aws_obj_str(&o, "subnet_id", aws_xml_text(inst, "subnetId"));
	aws_obj_val(&o, "vpc_security_group_ids",
		    val_set_take((struct value **)(void *)groups.data, buf_count(&groups, struct value *)));
	buf_release(&groups);
	aws_obj_str(&o, "key_name", aws_xml_text(inst, "keyName"));
	/* DescribeInstances does not return user data: what was sent is what it is */
	aws_obj_val(&o, "user_data", prior_or(prior, "user_data", val_null()));
	aws_obj_val(&o, "user_data_replace_on_change",
		    prior_or(prior, "user_data_replace_on_change", val_bool(0)));
	/* An Elastic IP on the instance is its public address too, and tells nothing of the
	 * launch setting: EC2 says "amazon" owns an address it assigned itself, so under any
	 * other owner the state's value stays (moto names the account for both kinds) */
	const char *ip_owner = aws_xml_text(primary, "association/ipOwnerId");
	const struct value *was = prior ? val_map_get(prior, "associate_public_ip_address") : NULL;
	if (pub && *pub && ip_owner && strcmp(ip_owner, "amazon") && was && was->kind == VAL_BOOL)
		aws_obj_bool(&o, "associate_public_ip_address", was->u.b);
	else
		aws_obj_bool(&o, "associate_public_ip_address", pub && *pub);
	aws_obj_str(&o, "availability_zone", aws_xml_text(inst, "placement/availabilityZone"));
	aws_obj_str(&o, "private_ip", aws_xml_text(inst, "privateIpAddress"));
	aws_obj_str(&o, "iam_instance_profile", profile);
	aws_obj_bool(&o, "monitoring", !strcmp(aws_xml_text(inst, "monitoring/state") ?: "", "enabled"));
	aws_obj_bool(&o, "ebs_optimized", xml_true(inst, "ebsOptimized", 0));
	/* only DescribeInstanceAttribute has it, one call per instance: kept as last set */
	aws_obj_val(&o, "disable_api_termination", prior_or(prior, "disable_api_termination", val_bool(0)));
	aws_obj_bool(&o, "source_dest_check", xml_true(inst, "sourceDestCheck", 1));
	aws_obj_val(&o, "volume_tags", prior_or(prior, "volume_tags", val_null()));
	aws_obj_val(&o, "tags", aws_tags_value(aws_xml_child(inst, "tagSet")));
	/* as Terraform: empty, not null, without a public address */
	aws_obj_str(&o, "public_ip", pub ? pub : "");
	aws_obj_str(&o, "public_dns", aws_xml_text(inst, "dnsName") ?: "");
	aws_obj_str(&o, "private_dns", aws_xml_text(inst, "privateDnsName") ?: "");
	aws_obj_str(&o, "instance_state", aws_xml_text(inst, "instanceState/name"));
	aws_obj_str(&o, "primary_network_interface_id", eni);
	aws_obj_val(&o, "root_block_device", root_block_value(inst, vols, prior));
	aws_obj_val(&o, "metadata_options", metadata_value(inst));
	return aws_obj_done(&o);
}

static int gone(const char *state)
{
	/* as Terraform: an instance on its way out is no longer there */
	return !state || !strcmp(state, "terminated") || !strcmp(state, "shutting-down");
}

/* Reads instances by id; results[i] is NULL for one that is gone. priors[i] gives what
 * EC2 does not report (user_data and the like). states[i], when states is not NULL, gets
 * the state of each instance found, terminated ones included (for the waiters). */
static int read_instances(struct aws *a, const char *const *ids, const struct value *const *priors,
			  size_t n, struct value **results, char **states, struct diag_ctx *diag)
{
	char *next = NULL;
	xmlDoc **docs = NULL;
	size_t ndocs = 0;
	const char **vols = xcalloc(n ? n : 1, sizeof *vols);
	xmlDoc *vdoc = NULL;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		results[i] = NULL;
		if (states)
			states[i] = NULL;
	}
	if (!n) {
		free(vols);
		return 0;
	}
	/* a filter, not InstanceId.N: an unknown id is then no error, just not in the answer */
	do {
		struct aws_params p;
		char key[64];

		aws_params_init(&p);
		aws_param(&p, "Filter.1.Name", "instance-id");
		for (size_t i = 0; i < n; i++) {
			snprintf(key, sizeof key, "Filter.1.Value.%zu", i + 1);
			aws_param(&p, key, "%s", ids[i]);
		}
		if (next)
			aws_param(&p, "NextToken", "%s", next);
		free(next);
		next = NULL;
		xmlDoc *doc = aws_query(a, "ec2", EC2_VERSION, "DescribeInstances", &p, diag, NULL);
		aws_params_release(&p);
		if (!doc)
			goto out;
		docs = xrealloc(docs, (ndocs + 1) * sizeof *docs);
		docs[ndocs++] = doc;
		const char *nt = aws_xml_text(aws_xml_root(doc), "nextToken");
		if (nt && *nt)
			next = xstrdup(nt);
	} while (next);

	/* first pass: the root volumes, to describe them all at once */
	for (size_t d = 0; d < ndocs; d++)
		for (xmlNode *r = aws_xml_first_item(aws_xml_child(aws_xml_root(docs[d]), "reservationSet")); r;
		     r = aws_xml_next_item(r))
			for (xmlNode *it = aws_xml_first_item(aws_xml_child(r, "instancesSet")); it;
			     it = aws_xml_next_item(it)) {
				const char *id = aws_xml_text(it, "instanceId");
				if (gone(aws_xml_text(it, "instanceState/name")))
					continue;
				for (size_t k = 0; k < n; k++)
					if (id && !strcmp(ids[k], id))
						vols[k] = root_volume_id(it);
			}
	vdoc = describe_volumes(a, vols, n, diag);
	for (size_t k = 0; k < n; k++)
		if (vols[k] && !vdoc)
			goto out;
	for (size_t d = 0; d < ndocs; d++)
		for (xmlNode *r = aws_xml_first_item(aws_xml_child(aws_xml_root(docs[d]), "reservationSet")); r;
		     r = aws_xml_next_item(r))
			for (xmlNode *it = aws_xml_first_item(aws_xml_child(r, "instancesSet")); it;
			     it = aws_xml_next_item(it)) {
				const char *id = aws_xml_text(it, "instanceId");
				const char *state = aws_xml_text(it, "instanceState/name");
				size_t k;
				for (k = 0; k < n && (!id || strcmp(ids[k], id)); k++)
					;
				if (k == n || results[k])
					continue;
				if (states && !states[k])
					states[k] = xstrdup(state ? state : "");
				if (!gone(state))
					results[k] = instance_value(a, it, aws_xml_text(r, "ownerId"), vdoc,
								    priors ? priors[k] : NULL);
			}
	ret = 0;
out:
	if (ret)
		for (size_t i = 0; i < n; i++) {
			val_unref(results[i]);
			results[i] = NULL;
			if (states) {
				free(states[i]);
				states[i] = NULL;
			}
		}
	for (size_t d = 0; d < ndocs; d++)
		xmlFreeDoc(docs[d]);
	free(docs);
	free(next);
	free(vols);
	if (vdoc)
		xmlFreeDoc(vdoc);
	return ret;
}

/* Polls until the instance is in state want ("gone" for terminated or missing), with a
 * backoff from 1 s doubling to 10 s: fast for the quick cases, gentle on the API for the
 * slow ones. *result (when result is not NULL) gets the instance as last read. */
static int wait_state(struct aws *a, const struct provider_op *op, const char *id, const char *want,
		      const struct value *prior, struct value **result, struct diag_ctx *diag)
{
	int timeout = op->timeout_s > 0 ? op->timeout_s : DEFAULT_TIMEOUT_S;
	time_t start = time(NULL);
	unsigned delay = 1;
	char *last = NULL;
	const char *ids[1] = { id };
	const struct value *priors[1] = { prior };

	for (;;) {
		struct value *v = NULL;
		char *state = NULL;

		if (read_instances(a, ids, priors, 1, &v, &state, diag)) {
			free(last);
			return -1;
		}
		int done = !strcmp(want, "gone") ? !state || !strcmp(state, "terminated") :
			   state && !strcmp(state, want);
		if (done || (result && time(NULL) - start >= timeout)) {
			if (result) {
				val_unref(*result);
				*result = v;
			} else {
				val_unref(v);
			}
			v = NULL;
		}
		val_unref(v);
		if (!state && strcmp(want, "gone")) {
			diag_error(diag, NULL, "%s: instance %s disappeared while waiting for it to be %s",
				   op->addr, id, want);
			free(last);
			return -1;
		}
		if (done) {
			free(state);
			free(last);
			return 0;
		}
		if (op->progress && (!last || strcmp(last, state))) {
			char line[160];
			snprintf(line, sizeof line, "instance %s is %s, waiting for %s", id, state, want);
			op->progress(op->progress_arg, line);
		}
		free(last);
		last = state;
		if (time(NULL) - start >= timeout) {
			diag_error(diag, NULL, "%s: instance %s is still %s after %d s, waiting for %s",
				   op->addr, id, last, timeout, want);
			diag_hint(diag, "raise the timeout in the resource's timeouts block, or look at the "
				  "instance's state reason in the EC2 console");
			free(last);
			return -1;
		}
		long left = timeout - (long)(time(NULL) - start);
		sleep(delay < left ? delay : (unsigned)(left > 0 ? left : 1));
		delay = delay * 2 > 10 ? 10 : delay * 2;
	}
}

/* ---- create ---- */

/* The AMI's root device name, which a root_block_device mapping must name. */
static char *ami_root_device(struct aws *a, const char *ami, struct diag_ctx *diag, const char *addr)
{
	struct aws_params p;
	xmlDoc *doc;
	char *dev = NULL;

	aws_params_init(&p);
	aws_param(&p, "ImageId.1", "%s", ami);
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeImages", &p, diag, addr);
	aws_params_release(&p);
	if (!doc)
		return NULL;
	const char *d = aws_xml_text(aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "imagesSet")),
				     "rootDeviceName");
	if (d && *d)
		dev = xstrdup(d);
	else
		diag_error(diag, NULL, "%s: AMI %s has no root device name", addr, ami);
	xmlFreeDoc(doc);
	return dev;
}

static void put_metadata(struct aws_params *p, const char *prefix, const struct value *m)
{
	static const char *const names[][2] = {
		{ "http_endpoint", "HttpEndpoint" }, { "http_tokens", "HttpTokens" },
		{ "instance_metadata_tags", "InstanceMetadataTags" },
	};
	char key[96];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (aws_str(m, names[i][0])) {
			snprintf(key, sizeof key, "%s%s", prefix, names[i][1]);
			aws_param(p, key, "%s", aws_str(m, names[i][0]));
		}
	if (num(m, "http_put_response_hop_limit") >= 0) {
		snprintf(key, sizeof key, "%sHttpPutResponseHopLimit", prefix);
		aws_param(p, key, "%.0f", num(m, "http_put_response_hop_limit"));
	}
}

static int run_params(struct aws *a, const struct provider_op *op, struct aws_params *p,
		      struct diag_ctx *diag)
{
	const struct value *m = op->planned;
	const struct value *groups = attr(m, "vpc_security_group_ids");
	const struct value *rbd = first_block(m, "root_block_device");
	const char *subnet = aws_str(m, "subnet_id");
	size_t nt;

	aws_param(p, "ImageId", "%s", aws_str(m, "ami"));
	aws_param(p, "InstanceType", "%s", aws_str(m, "instance_type"));
	aws_param(p, "MinCount", "1");
	aws_param(p, "MaxCount", "1");
	/* AWS's own idempotency: a retried RunInstances with the same token makes no second one */
	if (op->token)
		aws_param(p, "ClientToken", "%s", op->token);
	if (attr(m, "associate_public_ip_address")) {
		/* the address is a property of the interface, and EC2 refuses SubnetId and
		 * security groups beside a NetworkInterface: they move into it */
		aws_param(p, "NetworkInterface.1.DeviceIndex", "0");
		aws_param(p, "NetworkInterface.1.AssociatePublicIpAddress", "%s",
			  aws_bool(m, "associate_public_ip_address", 0) ? "true" : "false");
		if (subnet)
			aws_param(p, "NetworkInterface.1.SubnetId", "%s", subnet);
		put_set(p, "NetworkInterface.1.SecurityGroupId", groups);
		if (aws_str(m, "private_ip"))
			aws_param(p, "NetworkInterface.1.PrivateIpAddress", "%s", aws_str(m, "private_ip"));
	} else {
		if (subnet)
			aws_param(p, "SubnetId", "%s", subnet);
		put_set(p, "SecurityGroupId", groups);
		if (aws_str(m, "private_ip"))
			aws_param(p, "PrivateIpAddress", "%s", aws_str(m, "private_ip"));
	}
	if (aws_str(m, "key_name"))
		aws_param(p, "KeyName", "%s", aws_str(m, "key_name"));
	if (aws_str(m, "user_data")) {
		char *b = base64(aws_str(m, "user_data"));
		aws_param(p, "UserData", "%s", b);
		free(b);
	}
	if (aws_str(m, "availability_zone") && !subnet)
		aws_param(p, "Placement.AvailabilityZone", "%s", aws_str(m, "availability_zone"));
	if (aws_str(m, "iam_instance_profile"))
		aws_param(p, "IamInstanceProfile.Name", "%s", aws_str(m, "iam_instance_profile"));
	if (attr(m, "monitoring"))
		aws_param(p, "Monitoring.Enabled", "%s", aws_bool(m, "monitoring", 0) ? "true" : "false");
	if (attr(m, "ebs_optimized"))
		aws_param(p, "EbsOptimized", "%s", aws_bool(m, "ebs_optimized", 0) ? "true" : "false");
	if (attr(m, "disable_api_termination"))
		aws_param(p, "DisableApiTermination", "%s",
			  aws_bool(m, "disable_api_termination", 0) ? "true" : "false");
	if (first_block(m, "metadata_options"))
		put_metadata(p, "MetadataOptions.", first_block(m, "metadata_options"));
	if (rbd) {
		char *dev = ami_root_device(a, aws_str(m, "ami"), diag, op->addr);
		if (!dev)
			return -1;
		aws_param(p, "BlockDeviceMapping.1.DeviceName", "%s", dev);
		free(dev);
		if (num(rbd, "volume_size") > 0)
			aws_param(p, "BlockDeviceMapping.1.Ebs.VolumeSize", "%.0f", num(rbd, "volume_size"));
		if (aws_str(rbd, "volume_type"))
			aws_param(p, "BlockDeviceMapping.1.Ebs.VolumeType", "%s", aws_str(rbd, "volume_type"));
		if (num(rbd, "iops") > 0)
			aws_param(p, "BlockDeviceMapping.1.Ebs.Iops", "%.0f", num(rbd, "iops"));
		if (num(rbd, "throughput") > 0)
			aws_param(p, "BlockDeviceMapping.1.Ebs.Throughput", "%.0f", num(rbd, "throughput"));
		if (attr(rbd, "encrypted"))
			aws_param(p, "BlockDeviceMapping.1.Ebs.Encrypted", "%s",
				  aws_bool(rbd, "encrypted", 0) ? "true" : "false");
		if (aws_str(rbd, "kms_key_id"))
			aws_param(p, "BlockDeviceMapping.1.Ebs.KmsKeyId", "%s", aws_str(rbd, "kms_key_id"));
		aws_param(p, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "%s",
			  aws_bool(rbd, "delete_on_termination", 1) ? "true" : "false");
	}
	aws_tag_spec(p, "instance", attr(m, "tags"), op->token);
	/* volume_tags, or the root block's own: Terraform lets only one of them be used */
	nt = 0;
	aws_tag_params(p, "TagSpecification.2", &nt, attr(m, "volume_tags"), NULL);
	aws_tag_params(p, "TagSpecification.2", &nt, rbd ? attr(rbd, "tags") : NULL, NULL);
	if (nt)
		aws_param(p, "TagSpecification.2.ResourceType", "volume");
	return 0;
}

static int instance_create(struct aws *a, const struct provider_op *op, struct value **result,
			   struct diag_ctx *diag)
{
	struct aws_params p;
	xmlDoc *doc;
	char *id;
	int ret;

	*result = NULL;
	aws_params_init(&p);
	if (run_params(a, op, &p, diag)) {
		aws_params_release(&p);
		return -1;
	}
	doc = aws_query(a, "ec2", EC2_VERSION, "RunInstances", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	id = xstrdup(aws_xml_text(aws_xml_first_item(aws_xml_child(aws_xml_root(doc), "instancesSet")),
				  "instanceId") ?: "");
	xmlFreeDoc(doc);
	if (!*id) {
		diag_error(diag, NULL, "%s: ec2 RunInstances: the answer names no instance", op->addr);
		free(id);
		return -1;
	}
	/* a timeout still returns the instance, for the state to keep it tainted */
	ret = wait_state(a, op, id, "running", op->planned, result, diag);
	if (!ret && !*result) {
		diag_error(diag, NULL, "%s: %s was created but cannot be read back", op->addr, id);
		ret = -1;
	}
	free(id);
	return ret;
}

/* ---- update ---- */

static int modify(struct aws *a, const char *id, const char *key, const char *value, struct diag_ctx *diag,
		  const char *addr)
{
	struct aws_params p;

	aws_params_init(&p);
	aws_param(&p, "InstanceId", "%s", id);
	aws_param(&p, key, "%s", value);
	return aws_ec2_call(a, "ModifyInstanceAttribute", &p, diag, addr);
}

static int changed(const struct provider_op *op, const char *key)
{
	return !same(attr(op->prior, key), attr(op->planned, key));
}

/* The instance profile, changed in place as Terraform's provider does: the association
 * there is replaced (or removed, for none), else one is made. */
static int update_profile(struct aws *a, const struct provider_op *op, const char *id, struct diag_ctx *diag)
{
	const char *want = aws_str(op->planned, "iam_instance_profile");
	const char *assoc = NULL;
	struct aws_params p;
	xmlDoc *doc;
	int ret;

	aws_params_init(&p);
	aws_param(&p, "Filter.1.Name", "instance-id");
	aws_param(&p, "Filter.1.Value.1", "%s", id);
	aws_param(&p, "Filter.2.Name", "state");
	aws_param(&p, "Filter.2.Value.1", "associated");
	doc = aws_query(a, "ec2", EC2_VERSION, "DescribeIamInstanceProfileAssociations", &p, diag, op->addr);
	aws_params_release(&p);
	if (!doc)
		return -1;
	for (xmlNode *it = aws_xml_first_item(aws_xml_child(xmlDocGetRootElement(doc), "iamInstanceProfileAssociationSet"));
	     it && !assoc; it = aws_xml_next_item(it))
		assoc = aws_xml_text(it, "associationId");
	aws_params_init(&p);
	if (assoc && want) {
		aws_param(&p, "AssociationId", "%s", assoc);
		aws_param(&p, "IamInstanceProfile.Name", "%s", want);
		ret = aws_ec2_call(a, "ReplaceIamInstanceProfileAssociation", &p, diag, op->addr);
	} else if (assoc) {
		aws_param(&p, "AssociationId", "%s", assoc);
		ret = aws_ec2_call(a, "DisassociateIamInstanceProfile", &p, diag, op->addr);
	} else if (want) {
		aws_param(&p, "InstanceId", "%s", id);
		aws_param(&p, "IamInstanceProfile.Name", "%s", want);
		ret = aws_ec2_call(a, "AssociateIamInstanceProfile", &p, diag, op->addr);
	} else {
		aws_params_release(&p);
		ret = 0;
	}
	xmlFreeDoc(doc);
	return ret;
}

/* The root volume, changed in place: size, type, IOPS and throughput with ModifyVolume (EC2
 * grows a volume, never shrinks it: its error says so), delete_on_termination on the
 * instance's mapping, and the volume's tags. */
static int update_root_volume(struct aws *a, const struct provider_op *op, const char *id, struct diag_ctx *diag)
{
	static const struct { const char *key, *param; } mod[] = {
		{ "volume_size", "Size" }, { "volume_type", "VolumeType" },
		{ "iops", "Iops" }, { "throughput", "Throughput" },
	};
	const struct value *pb = first_block(op->prior, "root_block_device");
	const struct value *nb = first_block(op->planned, "root_block_device");
	const char *vol = aws_str(pb, "volume_id");
	struct aws_params p;
	int bad = 0, n = 0;

	if (!nb || !vol)
		return 0;
	aws_params_init(&p);
	aws_param(&p, "VolumeId", "%s", vol);
	for (size_t i = 0; i < sizeof mod / sizeof mod[0]; i++) {
		const struct value *v = attr(nb, mod[i].key);
		if (!v || v->kind == VAL_NULL || (v->marks & VAL_UNKNOWN) || same(attr(pb, mod[i].key), v))
			continue;
		if (v->kind == VAL_NUMBER)
			aws_param(&p, mod[i].param, "%.0f", v->u.n);
		else if (v->kind == VAL_STRING)
			aws_param(&p, mod[i].param, "%s", v->u.str.s);
		n++;
	}
	if (n)
		bad |= aws_ec2_call(a, "ModifyVolume", &p, diag, op->addr);
	else
		aws_params_release(&p);
	const struct value *dot = attr(nb, "delete_on_termination");
	if (dot && dot->kind == VAL_BOOL && !same(attr(pb, "delete_on_termination"), dot)) {
		aws_params_init(&p);
		aws_param(&p, "InstanceId", "%s", id);
		aws_param(&p, "BlockDeviceMapping.1.DeviceName", "%s", aws_str(pb, "device_name") ?: "/dev/xvda");
		aws_param(&p, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "%s", dot->u.b ? "true" : "false");
		bad |= aws_ec2_call(a, "ModifyInstanceAttribute", &p, diag, op->addr);
	}
	if (attr(nb, "tags") && !same(attr(pb, "tags"), attr(nb, "tags")))
		bad |= aws_ec2_update_tags(a, vol, attr(pb, "tags"), attr(nb, "tags"), diag, op->addr);
	return bad ? -1 : 0;
}

static int instance_update(struct aws *a, const struct provider_op *op, struct value **result,
			   struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	const char *addr = op->addr;
	int bad = 0;

	*result = NULL;
	/* type and user data can only change while the instance is stopped */
	int type = aws_str(op->planned, "instance_type") && changed(op, "instance_type");
	const struct value *ud = val_map_get(op->planned, "user_data");
	/* null too: user data taken out of the configuration is cleared */
	int udata = ud && !(ud->marks & VAL_UNKNOWN) && changed(op, "user_data");
	if (type || udata) {
		if (aws_ec2_call1(a, "StopInstances", "InstanceId.1", id, diag, addr) ||
		    wait_state(a, op, id, "stopped", op->prior, NULL, diag))
			return -1;
		if (type)
			bad |= modify(a, id, "InstanceType.Value", aws_str(op->planned, "instance_type"), diag,
				      addr);
		if (udata) {
			char *b = base64(aws_str(op->planned, "user_data") ?: "");
			bad |= modify(a, id, "UserData.Value", b, diag, addr);
			free(b);
		}
		/* started again even after a failed modify: the instance was running before */
		if (aws_ec2_call1(a, "StartInstances", "InstanceId.1", id, diag, addr) ||
		    wait_state(a, op, id, "running", op->prior, NULL, diag))
			bad = -1;
	}
	if (attr(op->planned, "vpc_security_group_ids") && changed(op, "vpc_security_group_ids")) {
		struct aws_params p;
		aws_params_init(&p);
		aws_param(&p, "InstanceId", "%s", id);
		put_set(&p, "GroupId", attr(op->planned, "vpc_security_group_ids"));
		bad |= aws_ec2_call(a, "ModifyInstanceAttribute", &p, diag, addr);
	}
	if (attr(op->planned, "source_dest_check") && changed(op, "source_dest_check"))
		bad |= modify(a, id, "SourceDestCheck.Value",
			      aws_bool(op->planned, "source_dest_check", 1) ? "true" : "false", diag, addr);
	if (attr(op->planned, "disable_api_termination") && changed(op, "disable_api_termination"))
		bad |= modify(a, id, "DisableApiTermination.Value",
			      aws_bool(op->planned, "disable_api_termination", 0) ? "true" : "false", diag, addr);
	if (attr(op->planned, "monitoring") && changed(op, "monitoring"))
		bad |= aws_ec2_call1(a, aws_bool(op->planned, "monitoring", 0) ? "MonitorInstances" :
			       "UnmonitorInstances", "InstanceId.1", id, diag, addr);
	const struct value *mo = first_block(op->planned, "metadata_options");
	if (mo && !same(first_block(op->prior, "metadata_options"), mo)) {
		struct aws_params p;
		aws_params_init(&p);
		aws_param(&p, "InstanceId", "%s", id);
		put_metadata(&p, "", mo);
		bad |= aws_ec2_call(a, "ModifyInstanceMetadataOptions", &p, diag, addr);
	}
	if (changed(op, "iam_instance_profile") && !(val_map_get(op->planned, "iam_instance_profile") &&
						     (val_map_get(op->planned, "iam_instance_profile")->marks & VAL_UNKNOWN)))
		bad |= update_profile(a, op, id, diag);
	if (!same(first_block(op->prior, "root_block_device"), first_block(op->planned, "root_block_device")))
		bad |= update_root_volume(a, op, id, diag);
	bad |= aws_ec2_update_tags(a, id, attr(op->prior, "tags"), attr(op->planned, "tags"), diag, addr);
	const char *vol = aws_str(first_block(op->prior, "root_block_device"), "volume_id");
	if (vol && changed(op, "volume_tags"))
		bad |= aws_ec2_update_tags(a, vol, attr(op->prior, "volume_tags"), attr(op->planned, "volume_tags"),
					   diag, addr);

	const char *ids[1] = { id };
	const struct value *priors[1] = { op->planned };
	if (read_instances(a, ids, priors, 1, result, NULL, diag))
		return -1;
	if (!*result) {
		diag_error(diag, NULL, "%s: instance %s is gone", addr, id);
		return -1;
	}
	return bad ? -1 : 0;
}

/* ---- delete and read ---- */

static int instance_remove(struct aws *a, const struct provider_op *op, struct diag_ctx *diag)
{
	const char *id = aws_str(op->prior, "id");
	const struct value *priors[1] = { op->prior };
	const char *ids[1] = { id };
	struct value *v = NULL;

	/* an instance already gone (terminated outside stk) is what we wanted: EC2 would answer
	 * the terminate with an error */
	if (read_instances(a, ids, priors, 1, &v, NULL, diag))
		return -1;
	if (!v)
		return 0;
	val_unref(v);
	if (aws_ec2_call1(a, "TerminateInstances", "InstanceId.1", id, diag, op->addr))
		return -1;
	/* the subnet and security groups cannot go until the instance has */
	return wait_state(a, op, id, "gone", op->prior, NULL, diag);
}

static int instance_read(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag)
{
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	const struct value **priors = xcalloc(n ? n : 1, sizeof *priors);
	struct value **res = xcalloc(n ? n : 1, sizeof *res);
	int ret;

	for (size_t i = 0; i < n; i++) {
		ids[i] = aws_str(items[i].prior, "id") ?: "";
		priors[i] = items[i].prior;
	}
	ret = read_instances(a, ids, priors, n, res, NULL, diag);
	for (size_t i = 0; i < n; i++)
		items[i].result = res[i];
	free(ids);
	free(priors);
	free(res);
	return ret;
}

const struct aws_resource aws_instance_resource = {
	.type = "instance",
	.create = instance_create,
	.update = instance_update,
	.remove = instance_remove,
	.read = instance_read,
};
