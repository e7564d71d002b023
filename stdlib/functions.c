#include "stdlib/functions.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const struct func_sig func_table[] = {
	{ "abs", 1, 1, "abs(number)" },
	{ "base64decode", 1, 1, "base64decode(string)" },
	{ "base64encode", 1, 1, "base64encode(string)" },
	{ "can", 1, 1, "can(expression)" },
	{ "ceil", 1, 1, "ceil(number)" },
	{ "chomp", 1, 1, "chomp(string)" },
	{ "cidrhost", 2, 2, "cidrhost(prefix, hostnum)" },
	{ "cidrnetmask", 1, 1, "cidrnetmask(prefix)" },
	{ "cidrsubnet", 3, 3, "cidrsubnet(prefix, newbits, netnum)" },
	{ "coalesce", 1, -1, "coalesce(value, ...)" },
	{ "compact", 1, 1, "compact(list)" },
	{ "concat", 1, -1, "concat(list, ...)" },
	{ "contains", 2, 2, "contains(collection, value)" },
	{ "distinct", 1, 1, "distinct(list)" },
	{ "element", 2, 2, "element(list, index)" },
	{ "endswith", 2, 2, "endswith(string, suffix)" },
	{ "file", 1, 1, "file(path)" },
	{ "fileexists", 1, 1, "fileexists(path)" },
	{ "filesha256", 1, 1, "filesha256(path)" },
	{ "flatten", 1, 1, "flatten(list)" },
	{ "floor", 1, 1, "floor(number)" },
	{ "format", 1, -1, "format(spec, values...)" },
	{ "index", 2, 2, "index(list, value)" },
	{ "join", 2, 2, "join(separator, list)" },
	{ "jsondecode", 1, 1, "jsondecode(string)" },
	{ "jsonencode", 1, 1, "jsonencode(value)" },
	{ "keys", 1, 1, "keys(map)" },
	{ "length", 1, 1, "length(value)" },
	{ "lookup", 2, 3, "lookup(map, key, default)" },
	{ "lower", 1, 1, "lower(string)" },
	{ "max", 1, -1, "max(number, ...)" },
	{ "merge", 0, -1, "merge(map, ...)" },
	{ "min", 1, -1, "min(number, ...)" },
	{ "range", 1, 3, "range([start,] limit[, step])" },
	{ "replace", 3, 3, "replace(string, substring, replacement)" },
	{ "reverse", 1, 1, "reverse(list)" },
	{ "sha256", 1, 1, "sha256(string)" },
	{ "slice", 3, 3, "slice(list, start, end)" },
	{ "sort", 1, 1, "sort(list)" },
	{ "split", 2, 2, "split(separator, string)" },
	{ "startswith", 2, 2, "startswith(string, prefix)" },
	{ "substr", 3, 3, "substr(string, offset, length)" },
	{ "templatefile", 2, 2, "templatefile(path, vars)" },
	{ "timestamp", 0, 0, "timestamp()" },
	{ "tobool", 1, 1, "tobool(value)" },
	{ "tolist", 1, 1, "tolist(value)" },
	{ "tomap", 1, 1, "tomap(value)" },
	{ "tonumber", 1, 1, "tonumber(value)" },
	{ "toset", 1, 1, "toset(value)" },
	{ "tostring", 1, 1, "tostring(value)" },
	{ "trim", 2, 2, "trim(string, characters)" },
	{ "trimprefix", 2, 2, "trimprefix(string, prefix)" },
	{ "trimspace", 1, 1, "trimspace(string)" },
	{ "trimsuffix", 2, 2, "trimsuffix(string, suffix)" },
	{ "try", 1, -1, "try(expression, ...)" },
	{ "upper", 1, 1, "upper(string)" },
	{ "values", 1, 1, "values(map)" },
	{ "zipmap", 2, 2, "zipmap(keys, values)" },
	{ NULL, 0, 0, NULL },
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct func_sig *)elem)->name);
}

const struct func_sig *func_find(const char *name)
{
	size_t n = sizeof func_table / sizeof func_table[0] - 1;
	return bsearch(name, func_table, n, sizeof func_table[0], cmp_name);
}

const char *const *func_names(void)
{
	static const char *names[sizeof func_table / sizeof func_table[0]];

	if (!names[0])
		for (size_t i = 0; func_table[i].name; i++)
			names[i] = func_table[i].name;
	return names;
}
