/* aws.h: what the AWS provider's resource files share: the configured client (credentials,
 * region, endpoints, the HTTP client), the query protocol (EC2, RDS, STS: form-encoded
 * requests, XML answers) and the JSON protocol (ECR), and small helpers for both.
 * Ownership: struct aws owns its strings and client; an aws_params owns its strings; the
 * xmlDoc and json_t results belong to the caller. */
#ifndef STK_AWS_H
#define STK_AWS_H

#include <jansson.h>
#include <libxml/tree.h>

#include "providers/http.h"
#include "providers/provider.h"
#include "providers/aws/sigv4.h"

struct aws {
	struct provider base;
	struct http_client http;
	char *region;
	char *access_key, *secret_key, *session_token;
	char *endpoint_ec2, *endpoint_rds, *endpoint_sts, *endpoint_ecr, *endpoint_s3, *endpoint_dynamodb;
};

/* The parameters of a query call, in the order given (EC2's list flattening is the caller's:
 * "Filter.1.Name", "Filter.1.Value.1"). */
struct aws_params {
	struct buf keys;   /* char * */
	struct buf values; /* char * */
};

void aws_params_init(struct aws_params *p);
void aws_params_release(struct aws_params *p);
void aws_param(struct aws_params *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* service: "ec2", "rds", "sts"; version: the API version ("2016-11-15"). Returns the parsed
 * answer, or NULL after a diagnostic "ec2 CreateVpc: Code: message (request id)" under
 * addr. */
xmlDoc *aws_query(struct aws *a, const char *service, const char *version, const char *action,
		  const struct aws_params *p, struct diag_ctx *diag, const char *addr);
/* aws_query, but an error whose code is one of ok_codes (NULL-terminated) is an answer: no
 * diagnostic, NULL returned and *hit (NULL before) set to that code. */
xmlDoc *aws_query_ok(struct aws *a, const char *service, const char *version, const char *action,
		     const struct aws_params *p, struct diag_ctx *diag, const char *addr,
		     const char *const *ok_codes, const char **hit);

/* A REST call signed for service ("s3"): method on endpoint + path (already URI-encoded),
 * with headers (NULL, or name, value, ..., NULL: sent and signed) and body. resp gets the
 * answer whatever its status; -1 (with resp->error) only when none came. */
int aws_rest(struct aws *a, const char *service, const char *method, const char *path,
	     const char *const *headers, const char *body, size_t len, struct http_response *resp);

/* A failed call's error: "ADDR: service Action: Code: message (request id)", the status
 * ("HTTP 403") standing for a missing code. addr may be NULL. */
void aws_api_error(struct diag_ctx *diag, const char *addr, const char *service, const char *action,
		   const char *code, const char *message, const char *request_id, long status);

/* The JSON protocols: ECR's 1.1 (target "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
 * and DynamoDB's 1.0 ("DynamoDB_20120810.PutItem"), by service ("ecr", "dynamodb").
 * Takes body; returns the answer, or NULL. A failure is diagnosed ("ADDR: ecr Action: Code:
 * message (request id)") unless its code is one of ok_codes (NULL-terminated; may be NULL),
 * which the caller treats as an answer ("not found"); *code (when not NULL) gets the code of
 * any failure, so the caller can add a hint. */
json_t *aws_json(struct aws *a, const char *service, const char *target, json_t *body,
		 struct diag_ctx *diag, const char *addr, const char *const *ok_codes, char *code,
		 size_t code_size);

/* EC2's filter number filter, name, with the n values: Filter.N.Name and Filter.N.Value.M.
 * A Describe by filter rather than by ids answers an unknown id with nothing, not an error. */
void aws_ec2_filter(struct aws_params *p, int filter, const char *name, const char *const *values, size_t n);
/* One EC2 call whose answer is only success or failure; releases p. 0, or -1 after a
 * diagnostic under addr. */
int aws_ec2_call(struct aws *a, const char *action, struct aws_params *p, struct diag_ctx *diag,
		 const char *addr);
/* The same with one parameter, as most deletes are. */
int aws_ec2_call1(struct aws *a, const char *action, const char *key, const char *value,
		  struct diag_ctx *diag, const char *addr);
/* A type's read handler: the items' "id"s through reader, which reads any number of them in
 * one call into results (NULL for one that is gone). */
int aws_read_ids(int (*reader)(struct aws *, const char *const *, size_t, struct value **, struct diag_ctx *),
		 struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag);

/* One object, after its create or update, through reader: -1 after a diagnostic, also when
 * it is not there. */
int aws_read_one(int (*reader)(struct aws *, const char *const *, size_t, struct value **, struct diag_ctx *),
		 struct aws *a, const char *id, struct value **result, struct diag_ctx *diag, const char *addr);

/* The account the credentials belong to (STS GetCallerIdentity), for the ARNs of objects
 * whose answers do not name their owner; NULL after a diagnostic under addr. */
char *aws_account_id(struct aws *a, struct diag_ctx *diag, const char *addr);

/* The text of the first element reached by a path of element names ("vpc/vpcId"), or NULL. */
const char *aws_xml_text(xmlNode *from, const char *path);
xmlNode *aws_xml_child(xmlNode *from, const char *name);
/* The elements of an EC2 list: <vpcSet><item/>...</vpcSet> gives the items. */
xmlNode *aws_xml_first_item(xmlNode *set);
xmlNode *aws_xml_next_item(xmlNode *item);
xmlNode *aws_xml_root(xmlDoc *doc);

/* Building results: a map from pairs added in any order. */
struct aws_obj {
	struct buf pairs;  /* struct val_pair */
};
void aws_obj_init(struct aws_obj *o);
void aws_obj_str(struct aws_obj *o, const char *key, const char *value);   /* NULL: null */
void aws_obj_bool(struct aws_obj *o, const char *key, int value);
void aws_obj_num(struct aws_obj *o, const char *key, double value);
void aws_obj_val(struct aws_obj *o, const char *key, struct value *v);     /* takes v */
struct value *aws_obj_done(struct aws_obj *o);

/* Attribute helpers on planned and prior values. */
const char *aws_str(const struct value *m, const char *key);
int aws_bool(const struct value *m, const char *key, int dflt);
/* tags (a map of strings; unknown entries skipped) -> PREFIX.Tag.N.Key/Value numbered on
 * from *n, then the stk:token tag if token is set. */
void aws_tag_params(struct aws_params *p, const char *prefix, size_t *n, const struct value *tags,
		    const char *token);
/* tags (a map of strings) -> TagSpecification.1.Tag.N.Key/Value, with the stk:token tag. */
void aws_tag_spec(struct aws_params *p, const char *resource_type, const struct value *tags,
		  const char *token);
/* EC2 tags from before to after: DeleteTags for what goes, CreateTags for what is new or
 * different. Returns 0, or -1 after a diagnostic. */
int aws_ec2_update_tags(struct aws *a, const char *id, const struct value *before,
			const struct value *after, struct diag_ctx *diag, const char *addr);
/* <tagSet> -> a map of strings, without stk's own tags. */
struct value *aws_tags_value(xmlNode *tag_set);
/* A VPC's or subnet's IPv6 range: the item of its <ipv6CidrBlockAssociationSet> that is
 * associated (or associating), or NULL; a disassociated one lingers a while. */
xmlNode *aws_ipv6_association(xmlNode *owner);

/* The resources: each file registers its handlers in this table. */
struct aws_resource {
	const char *type;
	int (*create)(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	int (*update)(struct aws *a, const struct provider_op *op, struct value **result,
		      struct diag_ctx *diag);
	int (*remove)(struct aws *a, const struct provider_op *op, struct diag_ctx *diag);
	int (*read)(struct aws *a, struct provider_read *items, size_t n, struct diag_ctx *diag);
	/* Finds the object an interrupted create made under token, from planned (the intent's
	 * known arguments), for types that EC2's DescribeTags cannot find; NULL *result when
	 * there is none. May be NULL. */
	int (*find)(struct aws *a, const char *token, const struct value *planned, struct value **result,
		    struct diag_ctx *diag);
};

/* A data source: config is its evaluated arguments; *result all its attributes. */
struct aws_data {
	const char *type;
	int (*read)(struct aws *a, const struct value *config, struct value **result,
		    struct diag_ctx *diag);
};

/* Each file defines its own (aws.c lists them all). */
extern const struct aws_resource aws_vpc_resource;

/* 1 (the default): a read whose calls need no answer of each other's makes them side by side,
 * on threads (ec2_vpc.c); 0: one after another, in a fixed order (fuzz_aws, whose answers
 * come in the order they are asked for). */
extern int aws_side_by_side;

extern const struct provider_ops provider_aws;

/* A client configured as the provider would be with config (NULL: the environment alone);
 * NULL after a diagnostic. Free with aws_free. For the state backend. */
struct aws *aws_new(const struct value *config, struct diag_ctx *diag);
void aws_free(struct aws *a);

#endif
