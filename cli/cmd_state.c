/* cmd_state.c: stk state list | show ADDR | mv FROM TO | rm ADDR, and stk force-unlock. They
 * change only the state, never the cloud: rm forgets an object, mv renames it. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "planner/addr.h"
#include "planner/apply.h"
#include "planner/check.h"
#include "planner/config.h"
#include "planner/crypt.h"
#include "planner/state.h"
#include "planner/vars.h"


static int parse_addr(struct diag_ctx *diag, const char *text, struct addr *a)
{
	struct buf why = BUF_INIT;

	addr_init(a);
	if (addr_parse(a, text, &why) == 0) {
		buf_release(&why);
		return 0;
	}
	diag_error(diag, NULL, "'%s' is not an address: %s", text, buf_cstr(&why));
	diag_hint(diag, "addresses look like aws.vpc.main, aws.subnet.public[\"a\"] or aws.instance.web[0]");
	buf_release(&why);
	return -1;
}

/* The instances an address names: one instance, or every instance of a resource. */
static size_t matching(const struct state *st, const struct addr *a, struct buf *out)
{
	for (size_t i = 0; i < st->nresources; i++) {
		struct state_resource *r = st->resources[i];
		if (strcmp(r->module, a->module) || r->mode != a->mode || strcmp(r->type, a->type) ||
		    strcmp(r->name, a->name))
			continue;
		for (size_t k = 0; k < r->ninstances; k++) {
			struct state_instance *in = r->instances[k];
			if (a->key && (!in->key || !val_equal(in->key, a->key)))
				continue;
			struct addr x;
			addr_init(&x);
			state_resource_addr(r, &x);
			x.key = in->key ? val_ref(in->key) : NULL;
			buf_push(out, struct addr, x);
		}
	}
	return buf_count(out, struct addr);
}

static void release_addrs(struct buf *b)
{
	for (size_t i = 0; i < buf_count(b, struct addr); i++)
		addr_release(&buf_at(b, struct addr, i));
	buf_release(b);
}

static int state_list(struct state *st, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < st->nresources; i++)
		for (size_t k = 0; k < st->resources[i]->ninstances; k++) {
			struct buf b = BUF_INIT;
			state_instance_address(st->resources[i], st->resources[i]->instances[k], &b);
			printf("%s%s\n", b.data, st->resources[i]->instances[k]->status == STATE_PENDING ?
			       " (pending create)" : st->resources[i]->instances[k]->status == STATE_TAINTED ?
			       " (tainted)" : "");
			buf_release(&b);
		}
	return 0;
}

static int state_show(struct diag_ctx *diag, struct state *st, const char *text)
{
	struct addr a;
	struct buf found = BUF_INIT;
	int ret = -1;

	if (parse_addr(diag, text, &a))
		return -1;
	if (!matching(st, &a, &found)) {
		diag_error(diag, NULL, "no instance %s in the state", text);
		goto out;
	}
	for (size_t i = 0; i < buf_count(&found, struct addr); i++) {
		const struct addr *x = &buf_at(&found, struct addr, i);
		struct state_instance *in = state_find_instance(st, x);
		struct buf name = BUF_INIT;
		addr_format(x, &name);
		printf("# %s\n", name.data);
		for (size_t k = 0; in->attrs && k < in->attrs->u.map.n; k++) {
			struct buf v = BUF_INIT;
			/* sensitive values print as (sensitive value), as everywhere */
			val_write(in->attrs->u.map.items[k].val, &v);
			printf("%s = %s\n", in->attrs->u.map.items[k].key, v.data);
			buf_release(&v);
		}
		buf_release(&name);
	}
	ret = 0;
out:
	release_addrs(&found);
	addr_release(&a);
	return ret;
}

/* rm and mv say what they did in done, which is printed only once the state is written. */
static int state_rm(struct diag_ctx *diag, struct state *st, int argc, char **argv, struct buf *done)
{
	int ret = 0;

	for (int i = 0; i < argc; i++) {
		struct addr a;
		struct buf found = BUF_INIT;
		if (parse_addr(diag, argv[i], &a)) {
			ret = -1;
			continue;
		}
		if (!matching(st, &a, &found)) {
			diag_error(diag, NULL, "no instance %s in the state", argv[i]);
			ret = -1;
		}
		for (size_t k = 0; k < buf_count(&found, struct addr); k++) {
			struct buf name = BUF_INIT;
			addr_format(&buf_at(&found, struct addr, k), &name);
			state_remove_instance(st, &buf_at(&found, struct addr, k));
			buf_printf(done, "Removed %s (the object itself is untouched)\n", name.data);
			buf_release(&name);
		}
		release_addrs(&found);
		addr_release(&a);
	}
	return ret;
}

/* mv FROM TO: one instance to another address, or every instance of a resource to another
 * resource, keys kept. */
static int state_mv(struct diag_ctx *diag, struct state *st, const char *from, const char *to,
		    struct buf *done)
{
	struct addr a, b;
	struct buf found = BUF_INIT;
	int ret = -1;

	if (parse_addr(diag, from, &a))
		return -1;
	if (parse_addr(diag, to, &b)) {
		addr_release(&a);
		return -1;
	}
	if (!matching(st, &a, &found)) {
		diag_error(diag, NULL, "no instance %s in the state", from);
		goto out;
	}
	if (a.mode != b.mode || strcmp(a.type, b.type)) {
		diag_error(diag, NULL, "%s and %s are of different types; mv keeps the type", from, to);
		goto out;
	}
	if (!a.key && b.key && buf_count(&found, struct addr) > 1) {
		diag_error(diag, NULL, "%s has several instances; move them to a resource, not to one key", from);
		goto out;
	}
	for (size_t k = 0; k < buf_count(&found, struct addr); k++) {
		const struct addr *src = &buf_at(&found, struct addr, k);
		struct addr dst;
		addr_init(&dst);
		addr_set(&dst, b.module, b.mode, b.type, b.name, b.key ? b.key : (a.key ? NULL : src->key));
		if (state_find_instance(st, &dst)) {
			struct buf n = BUF_INIT;
			addr_format(&dst, &n);
			diag_error(diag, NULL, "%s is already in the state: move it away first", n.data);
			buf_release(&n);
			addr_release(&dst);
			goto out;
		}
		state_move_instance(st, src, &dst);
		struct buf s1 = BUF_INIT, s2 = BUF_INIT;
		addr_format(src, &s1);
		addr_format(&dst, &s2);
		buf_printf(done, "Moved %s to %s\n", s1.data, s2.data);
		buf_release(&s1);
		buf_release(&s2);
		addr_release(&dst);
	}
	ret = 0;
out:
	release_addrs(&found);
	addr_release(&a);
	addr_release(&b);
	return ret;
}

int cmd_state(int argc, char **argv)
{
	const struct cli_command *self = cli_find("state");
	struct diag_ctx diag;
	struct state st;
	struct state_lock lock;
	char *path;
	const char *sub;
	struct buf done = BUF_INIT;
	int ret = 1, writes, locked = 0;
	int was_sealed;  /* the KDF the state was sealed with as read, 0 in clear */

	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(self->usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "rm") && strcmp(sub, "mv") &&
	    strcmp(sub, "encrypt") && strcmp(sub, "decrypt"))
		return cli_usage_error(self, "unknown state command '%s'", sub);
	if ((!strcmp(sub, "encrypt") || !strcmp(sub, "decrypt")) && argc != 2)
		return cli_usage_error(self, "state %s takes no arguments", sub);
	if ((!strcmp(sub, "show") && argc != 3) || (!strcmp(sub, "mv") && argc != 4) ||
	    (!strcmp(sub, "rm") && argc < 3) || (!strcmp(sub, "list") && argc != 2))
		return cli_usage_error(self, "wrong number of arguments for state %s", sub);
	writes = !strcmp(sub, "rm") || !strcmp(sub, "mv") || !strcmp(sub, "encrypt") || !strcmp(sub, "decrypt");
	diag_init(&diag);
	state_init(&st);
	state_lock_init(&lock);
	if (!(path = cli_state_open(&diag, ".", NULL, NULL)))
		goto out;
	if (writes) {
		char op[32];
		snprintf(op, sizeof op, "state %s", sub);
		if (state_lock(path, op, &lock, &diag))
			goto out;
		locked = 1;
	}
	int rs = state_read(path, &st, &diag);
	if (rs < 0)
		goto out;
	if (rs == STATE_NEW && writes) {
		diag_error(&diag, NULL, "there is no state at %s", path);
		goto out;
	}
	was_sealed = st.disk_sealed;
	if (!strcmp(sub, "list"))
		ret = state_list(&st, argc - 2, argv + 2) ? 1 : 0;
	else if (!strcmp(sub, "show"))
		ret = state_show(&diag, &st, argv[2]) ? 1 : 0;
	else if (!strcmp(sub, "rm"))
		ret = state_rm(&diag, &st, argc - 2, argv + 2, &done) ? 1 : 0;
	else if (!strcmp(sub, "mv"))
		ret = state_mv(&diag, &st, argv[2], argv[3], &done) ? 1 : 0;
	else if (sub[0] == 'e' ? st.disk_sealed && st.disk_sealed == state_kdf() : !st.disk_sealed) {
		/* Already as asked: written again it would only gain a serial and lose its backup.
		 * A state sealed with the other KDF than the configured one is not: encrypt
		 * seals it again with the configured one, at once rather than at the next write. */
		printf("The state %s is already %s; nothing was written.\n", path,
		       sub[0] == 'e' ? "encrypted" : "in clear");
		ret = 0;
		goto out;
	} else if (!state_has_passphrase()) {
		/* read as it was; written sealed (encrypt) or in clear (decrypt) */
		diag_error(&diag, NULL, "state %s needs the passphrase", sub);
		diag_hint(&diag, "set STK_STATE_PASSPHRASE, or the passphrase in the stack's encryption block");
		ret = 1;
	} else {
		state_set_sealing(!strcmp(sub, "encrypt"));
		ret = 0;
	}
	/* nothing is written unless every part of the command worked */
	if (writes && ret == 0 && state_write(path, &st, &diag))
		ret = 1;
	else if (ret == 0 && done.len)
		fputs(done.data, stdout);
	else if (ret == 0 && !strcmp(sub, "encrypt") && was_sealed)
		printf("The state %s is now encrypted with %s (it was with %s).\n", path,
		       crypt_kdf_label(state_kdf()), crypt_kdf_label(was_sealed));
	else if (ret == 0 && (!strcmp(sub, "encrypt") || !strcmp(sub, "decrypt")))
		printf("The state %s is now %s.\n", path, sub[0] == 'e' ? "encrypted" : "in clear");
out:
	if (locked)
		state_unlock(&lock, &diag);
	/* printed first: the spans may point into the configuration cli_state_close frees */
	cli_print_diags(&diag);
	cli_state_close();
	state_release(&st);
	diag_release(&diag);
	buf_release(&done);
	free(path);
	return ret;
}

int cmd_force_unlock(int argc, char **argv)
{
	const struct cli_command *self = cli_find("force-unlock");
	struct diag_ctx diag;
	char *path;
	int ret;

	if (argc == 2 && cli_is_help(argv[1])) {
		fputs(self->usage, stdout);
		return 0;
	}
	if (argc != 2)
		return cli_usage_error(self, "force-unlock takes the lock ID");
	diag_init(&diag);
	path = cli_state_open(&diag, ".", NULL, NULL);
	ret = !path || state_force_unlock(path, argv[1], &diag) ? 1 : 0;
	if (!ret)
		printf("Released the lock %s on %s.\n", argv[1], path);
	cli_print_diags(&diag);
	cli_state_close();
	diag_release(&diag);
	free(path);
	return ret;
}

/* stk import ADDR ID: reads the object through its provider and records it under ADDR, which
 * the configuration must declare. The next plan shows only real differences. */
int cmd_import(int argc, char **argv)
{
	const struct cli_command *self = cli_find("import");
	struct diag_ctx diag;
	struct state st;
	struct state_lock lock;
	struct addr a;
	struct config_module mod;
	const char *dir = ".";
	char *path = NULL;
	int ret = 1, locked = 0, have_addr = 0;
	const char *args[2];
	int nargs = 0;

	for (int i = 1; i < argc; i++) {
		const char *v;
		if (cli_is_help(argv[i])) {
			fputs(self->usage, stdout);
			return 0;
		}
		if (cli_flag(argv[i], "dir", &v) || cli_flag(argv[i], "chdir", &v)) {
			dir = v ? v : (i + 1 < argc ? argv[++i] : ".");
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(self, "unknown flag '%s'", argv[i]);
		if (nargs == 2)
			return cli_usage_error(self, "import takes an address and an ID");
		args[nargs++] = argv[i];
	}
	if (nargs != 2)
		return cli_usage_error(self, "import takes an address and an ID");
	diag_init(&diag);
	state_init(&st);
	state_lock_init(&lock);
	config_module_init(&mod);
	if (parse_addr(&diag, args[0], &a))
		goto out;
	have_addr = 1;
	if (a.mode != ADDR_MANAGED) {
		diag_error(&diag, NULL, "a data source cannot be imported: it is read");
		diag_hint(&diag, "import into a resource, such as aws.vpc.main or module.web.aws.vpc.main");
		goto out;
	}
	/* the address must be declared, so that the object has a configuration to match */
	if (config_load_dir(&diag, dir, &mod, 0) || diag.errors || check_module(&diag, &mod))
		goto out;
	if (!(path = cli_state_open(&diag, dir, &mod, NULL)))
		goto out;
	if (state_lock(path, "import", &lock, &diag))
		goto out;
	locked = 1;
	if (state_read(path, &st, &diag) < 0)
		goto out;
	if (state_find_instance(&st, &a)) {
		diag_error(&diag, NULL, "%s is already in the state", args[0]);
		diag_hint(&diag, "stk state rm %s first to import another object under that address", args[0]);
		goto out;
	}
	struct value *obj = NULL;
	char *provider = NULL, *pmod = NULL;
	{
		/* the provider block as apply would configure it (variables from the directory's
		 * files and the environment), so that import reads where apply writes */
		struct vars_input vin;
		struct plan_opts po = { 0 };
		struct strmap configs;
		size_t npri;
		struct plan_prior *pri = apply_priors(&st, &npri);

		vars_init(&vin);
		strmap_init(&configs);
		if (vars_add_defaults(&vin, dir, &diag) == 0) {
			po.variables = vars_values(&vin);
			po.raw_variables = vars_raw(&vin);
			/* the module instance, resource and key are checked first: count and
			 * for_each are evaluated as plan would, with the same variables */
			if (plan_import_check(&diag, &mod, pri, npri, &po, &a, args[0], &provider) == 0 &&
			    plan_providers(&diag, &mod, pri, npri, &po, &configs) == 0)
				apply_import_read(&diag, &configs, args[0], a.module, a.type, provider, args[1], NULL,
						  &obj);
			/* the block it was read through, as apply records the objects it makes */
			if (obj)
				pmod = plan_provider_module(&configs, a.module, provider);
			val_unref(po.variables);
			val_unref((struct value *)po.raw_variables);
		}
		plan_providers_release(&configs);
		apply_free_priors(pri, npri);
		vars_release(&vin);
	}
	if (obj) {
		struct state_instance *in = state_add_instance(&st, &a, provider);
		state_resource_set_provider_module(state_find_resource(&st, &a), pmod);
		state_instance_set_attrs(in, obj);
		val_unref(obj);
		if (state_write(path, &st, &diag) == 0) {
			printf("Imported %s as %s. Run stk plan to see how it differs from the configuration.\n",
			       args[1], args[0]);
			ret = 0;
		}
	}
	free(provider);
	free(pmod);
out:
	if (locked)
		state_unlock(&lock, &diag);
	/* printed first: the spans may point into the configuration cli_state_close frees */
	cli_print_diags(&diag);
	cli_state_close();
	if (have_addr)
		addr_release(&a);
	config_module_release(&mod);
	state_release(&st);
	diag_release(&diag);
	free(path);
	return ret;
}
