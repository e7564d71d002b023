/* schema.h: provider schemas as data tables: what each resource type and data source takes and
 * reports. The front end checks arguments against them; the planner diffs with them.
 * Ownership: every table is static const data; nothing here is allocated. */
#ifndef STK_SCHEMA_H
#define STK_SCHEMA_H

#include <stddef.h>

struct buf;

enum schema_kind {
	SK_STRING,
	SK_NUMBER,
	SK_BOOL,
	SK_ANY,
	SK_LIST,    /* ordered; elem says of what */
	SK_SET,     /* unordered, no duplicates: diffed without regard to order */
	SK_MAP,     /* string keys */
	SK_OBJECT,  /* fixed attributes: attrs */
};

/* Flags of an attribute or nested block. Exactly one of REQUIRED, OPTIONAL or COMPUTED-only
 * (COMPUTED without OPTIONAL) holds; OPTIONAL|COMPUTED means the cloud fills it in when unset. */
enum {
	SF_REQUIRED  = 1 << 0,
	SF_OPTIONAL  = 1 << 1,
	SF_COMPUTED  = 1 << 2,
	SF_FORCE_NEW = 1 << 3, /* a change replaces the object */
	SF_SENSITIVE = 1 << 4, /* never printed; marks everything derived from it */
	SF_WRITE_ONLY = 1 << 5,/* sent to the API, never read back (passwords): no drift check */
	SF_CIDR      = 1 << 6, /* compared as canonical CIDR ("10.0.0.0/16") */
	SF_JSON      = 1 << 7, /* compared as JSON documents, not text */
};

struct schema_attr;

struct schema_type {
	enum schema_kind kind;
	const struct schema_type *elem;   /* LIST, SET, MAP */
	const struct schema_attr *attrs;  /* OBJECT: NULL-name-terminated */
};

struct schema_attr {
	const char *name;
	const struct schema_type *type;
	unsigned flags;
	const char *default_value;  /* optional: the value when unset, as .stk source ("true") */
	const char *description;
	const char *force_new_if;   /* a change replaces the object when this bool attribute of
				       the same block is true (user_data_replace_on_change) */
	const char *recomputed_by;  /* computed: unknown again after an in-place update that
				       changes one of these attributes ("tags,push") */
	/* optional: a value the API would refuse, told at plan and validate time rather than
	 * in the middle of an apply. Called with a known string; 0, or -1 with the rule (what
	 * is taken, not the value) in why. */
	int (*check)(const char *s, size_t len, struct buf *why);
};

struct schema_block;

/* A nested block type inside a resource body: route { }, ingress { }, lifecycle { }. */
struct schema_nested {
	const char *name;
	const struct schema_block *block;
	int min_items, max_items;   /* max 0: unlimited */
	int is_set;                 /* blocks diffed as a set (ingress rules), else as a list */
	unsigned flags;             /* SF_FORCE_NEW etc. apply to the block as a whole */
};

struct schema_block {
	const struct schema_attr *attrs;      /* NULL-name-terminated */
	const struct schema_nested *blocks;   /* NULL-name-terminated, may be NULL */
};

/* Default timeouts (seconds) that a `timeouts { create = "40m" }` block may override.
 * 0: the provider declares none for that operation; the engine's own default applies. */
struct schema_timeouts {
	int create, update, delete;
};

struct schema_resource {
	const char *type;           /* "vpc": used as aws.vpc */
	const char *description;
	struct schema_block block;
	struct schema_timeouts timeouts;
	const char *id_attr;        /* the attribute that import takes ("id", "name") */
};

struct schema_provider {
	const char *name;           /* "aws", "docker" */
	struct schema_block config; /* the provider block */
	const struct schema_resource *resources;    /* NULL-type-terminated */
	const struct schema_resource *data_sources; /* NULL-type-terminated */
};

/* Shared scalar types. */
extern const struct schema_type schema_string, schema_number, schema_bool, schema_any;
extern const struct schema_type schema_list_of_string, schema_set_of_string;
extern const struct schema_type schema_map_of_string, schema_list_of_number;

extern const struct schema_provider schema_aws, schema_docker, schema_host;

/* NULL-terminated list of every provider. */
extern const struct schema_provider *const schema_providers[];

const struct schema_provider *schema_provider_find(const char *name);
/* type is "vpc" within provider p; data selects data sources. */
const struct schema_resource *schema_resource_find(const struct schema_provider *p,
						   const char *type, int data);
/* The same for a whole type name, "aws.vpc" (data selects data sources): NULL for a provider
 * or a type stk does not know. */
const struct schema_resource *schema_type_find(const char *type, int data);
const struct schema_attr *schema_attr_find(const struct schema_block *b, const char *name);
const struct schema_nested *schema_nested_find(const struct schema_block *b, const char *name);
/* The argument that takes the stack's default tags: a settable `tags` map of strings, or
 * NULL (docker.image's `tags` is a list of image names, and takes none). */
const struct schema_attr *schema_tags_attr(const struct schema_block *b);
/* "string", "number", "list", "map", "object": the bare kind, for messages. */
const char *schema_kind_name(enum schema_kind k);
/* The whole type, for messages: "list(string)", "map(string)",
 * "object({internal = number, ...})". Like snprintf: writes at most size
 * bytes, NUL-terminated when size > 0, and returns the length the full text needs. */
size_t schema_type_name(const struct schema_type *t, char *buf, size_t size);

/* A Go-style duration as Terraform's timeouts take it ("40m", "1h30m", "90s") in seconds,
 * or -1 when s is not one. */
int schema_duration(const char *s);

#endif
