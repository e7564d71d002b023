/* docker/schema.c: the schema of the docker provider, after kreuzwerker/docker.
 * Where that provider nests blocks (ports { }, healthcheck { }) we take attributes of
 * object type instead, since the language writes ports = [{ internal = 80 }]; where it
 * uses sets of {label, value} or "K=V" strings (labels, env) we take maps. image is our
 * own: it builds and pushes, which kreuzwerker splits over docker_image and
 * docker_registry_image. Conventions shared by every table are described at the top of
 * providers/schema.c. */
#include "providers/schema.h"

#include <string.h>

#include "common/buf.h"

#define ATTR_ID(what) \
	{ .name = "id", .type = &schema_string, .flags = SF_COMPUTED, .description = what }

/* ---- provider block ---------------------------------------------------------------- */

/* One block per registry; its label is only a name for it, the address says where. */
static const struct schema_attr registry_attrs[] = {
	{ .name = "address", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Registry host, e.g. \"ghcr.io\" or an ECR registry" },
	{ .name = "username", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "User name to log in with" },
	{ .name = "password", .type = &schema_string, .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "Password or token to log in with" },
	{ .name = "config_file", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Docker config.json to take credentials from instead" },
	{ .name = "config_file_content", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "Contents of a Docker config.json to take credentials from" },
	{ .name = "auth_disabled", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Do not log in: the registry needs no credentials" },
	{ .name = NULL }
};

static const struct schema_block registry_block = { .attrs = registry_attrs };

/* Either files or material (PEM text) for each of the three; not both. */
static const struct schema_attr tls_attrs[] = {
	{ .name = "ca_file", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM file of the CA that signed the daemon's certificate" },
	{ .name = "cert_file", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM file of the client certificate" },
	{ .name = "key_file", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM file of the client private key" },
	{ .name = "ca_material", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM text of the CA certificate, instead of ca_file" },
	{ .name = "cert_material", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM text of the client certificate, instead of cert_file" },
	{ .name = "key_material", .type = &schema_string, .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "PEM text of the client private key, instead of key_file" },
	{ .name = NULL }
};

static const struct schema_block tls_block = { .attrs = tls_attrs };

static const struct schema_nested docker_config_blocks[] = {
	{ .name = "registry", .block = &registry_block, .flags = SF_OPTIONAL },
	{ .name = "tls", .block = &tls_block, .max_items = 1, .flags = SF_OPTIONAL },
	{ .name = NULL }
};

static const struct schema_attr docker_config_attrs[] = {
	{ .name = "host", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description =
		"Daemon address, e.g. \"unix:///var/run/docker.sock\"; default DOCKER_HOST" },
	{ .name = "ssh_opts", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Extra ssh(1) options for an ssh:// host" },
	{ .name = "cert_path", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Directory holding ca.pem, cert.pem and key.pem for TLS" },
	{ .name = "ca_material", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM text of the CA certificate" },
	{ .name = "cert_material", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "PEM text of the client certificate" },
	{ .name = "key_material", .type = &schema_string, .flags = SF_OPTIONAL | SF_SENSITIVE,
	  .description = "PEM text of the client private key" },
	{ .name = "wait_for_daemon", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "How long to wait for a daemon still starting, e.g. \"10m\" (stk's own)" },
	{ .name = NULL }
};

/* ---- image ------------------------------------------------------------------------- */

static const struct schema_attr image_attrs[] = {
	/* Whatever feeds the build replaces the image: a build makes a new image ID. */
	{ .name = "context", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Build context directory" },
	{ .name = "dockerfile", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"Dockerfile\"",
	  .description = "Dockerfile path, relative to context" },
	{ .name = "build_args", .type = &schema_map_of_string,
	  .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Build-time variables (ARG)" },
	{ .name = "target", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Build stage to stop at" },
	{ .name = "platform", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Platform to build for, e.g. \"linux/amd64\"" },
	{ .name = "labels", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Labels to set on the image" },
	{ .name = "triggers", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Arbitrary values whose change forces a rebuild" },
	/* Not force-new: changes how, not what, is built. */
	{ .name = "no_cache", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Do not use the build cache" },
	/* Tags and pushes can change in place: retag, push again. */
	{ .name = "tags", .type = &schema_list_of_string, .flags = SF_OPTIONAL,
	  .description = "Names to tag the image with, \"repo:tag\"" },
	{ .name = "push", .type = &schema_bool, .flags = SF_OPTIONAL, .default_value = "false",
	  .description = "Push every tag to its registry after the build" },
	{ .name = "keep_locally", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Leave the image in the local store on destroy" },
	{ .name = "force_remove", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Remove the image on destroy even if containers use it" },
	ATTR_ID("Image ID, \"sha256:...\""),
	{ .name = "name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "First of tags, else the image ID", .recomputed_by = "tags" },
	{ .name = "repo_digest", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"repo@sha256:...\" of the first pushed tag, after a push",
	  .recomputed_by = "tags,push" },
	{ .name = "context_sha256", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "SHA-256 over the files of the build context, as of the build" },
	{ .name = NULL }
};

/* ---- container --------------------------------------------------------------------- */

static const struct schema_attr container_port_attrs[] = {
	{ .name = "internal", .type = &schema_number, .flags = SF_REQUIRED,
	  .description = "Port inside the container" },
	{ .name = "external", .type = &schema_number, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Port on the host; a free one from 32768 up if unset" },
	{ .name = "protocol", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"tcp\"",
	  .description = "\"tcp\", \"udp\" or \"sctp\"" },
	{ .name = "ip", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"0.0.0.0\"",
	  .description = "Host address to bind" },
	{ .name = NULL }
};

static const struct schema_type container_port_type = {
	.kind = SK_OBJECT, .attrs = container_port_attrs,
};

static const struct schema_type container_ports_type = {
	.kind = SK_LIST, .elem = &container_port_type,
};

static const struct schema_attr container_healthcheck_attrs[] = {
	{ .name = "test", .type = &schema_list_of_string, .flags = SF_REQUIRED,
	  .description = "Check command, e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost/\"]" },
	{ .name = "interval", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"0s\"",
	  .description = "Time between checks, e.g. \"30s\"; 0s: Docker's default" },
	{ .name = "timeout", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"0s\"",
	  .description = "Time one check may take; 0s: Docker's default" },
	{ .name = "start_period", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"0s\"",
	  .description = "Grace period after start during which failures do not count" },
	{ .name = "retries", .type = &schema_number, .flags = SF_OPTIONAL,
	  .default_value = "0",
	  .description = "Consecutive failures that make it unhealthy; 0: Docker's default" },
	{ .name = NULL }
};

static const struct schema_type container_healthcheck_type = {
	.kind = SK_OBJECT, .attrs = container_healthcheck_attrs,
};

static const struct schema_attr container_mount_attrs[] = {
	{ .name = "type", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "\"bind\", \"volume\" or \"tmpfs\"" },
	{ .name = "target", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Path inside the container" },
	{ .name = "source", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Host path (bind) or volume name (volume)" },
	{ .name = "read_only", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Mount read-only" },
	{ .name = NULL }
};

static const struct schema_type container_mount_type = {
	.kind = SK_OBJECT, .attrs = container_mount_attrs,
};

static const struct schema_type container_mounts_type = {
	.kind = SK_LIST, .elem = &container_mount_type,
};

/* Exactly one of content, content_base64 and source. */
static const struct schema_attr container_upload_attrs[] = {
	{ .name = "file", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Path of the file inside the container" },
	{ .name = "content", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Text to write to the file" },
	{ .name = "content_base64", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Base64 of binary content to write to the file" },
	{ .name = "source", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Local file to copy; its content is not kept in state" },
	{ .name = "source_hash", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Hash of source, so that a change of content is noticed" },
	{ .name = "executable", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Make the file executable" },
	{ .name = "permissions", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Octal file mode, e.g. \"0644\"; overrides executable" },
	{ .name = NULL }
};

static const struct schema_type container_upload_type = {
	.kind = SK_OBJECT, .attrs = container_upload_attrs,
};

static const struct schema_type container_uploads_type = {
	.kind = SK_LIST, .elem = &container_upload_type,
};

static const struct schema_attr container_network_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Name or ID of the network" },
	{ .name = "aliases", .type = &schema_set_of_string, .flags = SF_OPTIONAL,
	  .description = "Extra names of the container on this network" },
	{ .name = "ipv4_address", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Fixed IPv4 address on this network" },
	{ .name = "ipv6_address", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Fixed IPv6 address on this network" },
	{ .name = NULL }
};

static const struct schema_type container_network_type = {
	.kind = SK_OBJECT, .attrs = container_network_attrs,
};

static const struct schema_type container_networks_type = {
	.kind = SK_SET, .elem = &container_network_type,
};

static const struct schema_attr container_network_data_attrs[] = {
	{ .name = "network_name", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Name of the network" },
	{ .name = "ip_address", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "IPv4 address on the network" },
	{ .name = "ip_prefix_length", .type = &schema_number, .flags = SF_COMPUTED,
	  .description = "Prefix length of the IPv4 address" },
	{ .name = "gateway", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "IPv4 gateway of the network" },
	{ .name = "global_ipv6_address", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "IPv6 address on the network" },
	{ .name = "mac_address", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "MAC address on the network" },
	{ .name = NULL }
};

static const struct schema_type container_network_data_type = {
	.kind = SK_OBJECT, .attrs = container_network_data_attrs,
};

static const struct schema_type container_network_datas_type = {
	.kind = SK_LIST, .elem = &container_network_data_type,
};

/* What the engine takes as a container name (its RestrictedNamePattern): a letter or digit,
 * then one or more of letters, digits, '_', '.' and '-'. The engine also takes a leading '/',
 * but reads the name back without it, so every plan would replace the container: refused
 * too. Checked at plan and validate time (schema_attr.check), before any call. */
static int container_name(const char *s, size_t len, struct buf *why)
{
	static const char more[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	if (len >= 2 && strspn(s, more) == len && !strchr("_.-", s[0]))
		return 0;
	buf_addstr(why, "a container name is a letter or digit, then one or more letters, digits, "
		   "'_', '.' or '-' ([a-zA-Z0-9][a-zA-Z0-9_.-]+)");
	return -1;
}

/* Docker can change only a few settings of a running container (restart policy, resource
 * limits); everything else replaces it, as in kreuzwerker's provider. */
static const struct schema_attr container_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Container name", .check = container_name },
	{ .name = "image", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Image to run: an image ID, such as docker.image.x.id, or a name" },
	{ .name = "command", .type = &schema_list_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Command to run, overriding the image's CMD" },
	{ .name = "entrypoint", .type = &schema_list_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Entrypoint, overriding the image's ENTRYPOINT" },
	{ .name = "env", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Environment variables" },
	{ .name = "network_mode", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"bridge\"",
	  .description = "\"bridge\", \"host\", \"none\", \"container:<name>\" or a network" },
	{ .name = "networks_advanced", .type = &container_networks_type,
	  .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Networks to attach, [{ name = ..., aliases = [...] }]" },
	{ .name = "ports", .type = &container_ports_type, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Ports to publish, [{ internal = 80, external = 8080 }]" },
	{ .name = "mounts", .type = &container_mounts_type, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Mounts, [{ type = \"volume\", source = ..., target = ... }]" },
	{ .name = "upload", .type = &container_uploads_type,
	  .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Files to write into the container before it starts" },
	{ .name = "healthcheck", .type = &container_healthcheck_type,
	  .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Health check, overriding the image's HEALTHCHECK" },
	{ .name = "labels", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Labels to set on the container" },
	{ .name = "user", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "User to run as, \"user\" or \"user:group\"" },
	{ .name = "working_dir", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Working directory of the command" },
	{ .name = "hostname", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Host name inside the container" },
	{ .name = "domainname", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Domain name inside the container" },
	{ .name = "dns", .type = &schema_set_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "DNS servers to use" },
	{ .name = "privileged", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Run with extended privileges" },
	{ .name = "read_only", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "false",
	  .description = "Mount the root file system read-only" },
	{ .name = "tty", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "false",
	  .description = "Allocate a pseudo-terminal (docker run -t)" },
	{ .name = "stdin_open", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "false",
	  .description = "Keep stdin open (docker run -i)" },
	{ .name = "init", .type = &schema_bool, .flags = SF_OPTIONAL | SF_COMPUTED,
	  .description = "Run an init process as PID 1" },
	{ .name = "stop_signal", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Signal that stops the container, e.g. \"SIGTERM\"" },
	{ .name = "stop_timeout", .type = &schema_number,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Seconds to wait after stop_signal before killing" },
	{ .name = "log_driver", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Logging driver, e.g. \"json-file\"" },
	{ .name = "log_opts", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Options of the logging driver" },
	/* The settings below change in place (docker update, or nothing to change). */
	{ .name = "restart", .type = &schema_string, .flags = SF_OPTIONAL,
	  .default_value = "\"no\"",
	  .description = "Restart policy: \"no\", \"on-failure\", \"always\", \"unless-stopped\"" },
	{ .name = "max_retry_count", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Most restarts under restart = \"on-failure\"" },
	{ .name = "memory", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Memory limit in MB" },
	{ .name = "memory_swap", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Memory plus swap limit in MB; -1 for unlimited swap" },
	{ .name = "cpu_shares", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Relative CPU weight" },
	{ .name = "must_run", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "true",
	  .description = "Start the container again if found stopped" },
	{ .name = "start", .type = &schema_bool, .flags = SF_OPTIONAL, .default_value = "true",
	  .description = "Start the container after creating it" },
	{ .name = "rm", .type = &schema_bool, .flags = SF_OPTIONAL, .default_value = "false",
	  .description = "Remove the container when it exits" },
	{ .name = "attach", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Wait for the container to exit after starting it" },
	{ .name = "logs", .type = &schema_bool, .flags = SF_OPTIONAL, .default_value = "false",
	  .description = "Keep the output in container_logs; needs attach" },
	/* kreuzwerker: "wait". */
	{ .name = "wait_healthy", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Wait until the health check passes; needs a health check" },
	{ .name = "wait_timeout", .type = &schema_number, .flags = SF_OPTIONAL,
	  .default_value = "60",
	  .description = "Seconds wait_healthy waits before failing" },
	{ .name = "destroy_grace_seconds", .type = &schema_number, .flags = SF_OPTIONAL,
	  .description = "Seconds to let the container stop before removing it" },
	ATTR_ID("Container ID"),
	{ .name = "ip_address", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "IPv4 address on the first network" },
	{ .name = "gateway", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "IPv4 gateway of the first network" },
	{ .name = "network_data", .type = &container_network_datas_type, .flags = SF_COMPUTED,
	  .description = "Addresses on each attached network" },
	{ .name = "exit_code", .type = &schema_number, .flags = SF_COMPUTED,
	  .description = "Exit code, once the container has exited" },
	{ .name = "container_logs", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Output of the container, with attach and logs" },
	{ .name = NULL }
};

/* ---- network ----------------------------------------------------------------------- */

static const struct schema_attr network_ipam_attrs[] = {
	{ .name = "subnet", .type = &schema_string, .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "Subnet of the network, e.g. \"172.28.0.0/16\"" },
	{ .name = "ip_range", .type = &schema_string, .flags = SF_OPTIONAL | SF_CIDR,
	  .description = "Range within subnet to give containers addresses from" },
	{ .name = "gateway", .type = &schema_string, .flags = SF_OPTIONAL,
	  .description = "Gateway address within subnet" },
	{ .name = "aux_address", .type = &schema_map_of_string, .flags = SF_OPTIONAL,
	  .description = "Addresses the driver reserves, by name" },
	{ .name = NULL }
};

static const struct schema_type network_ipam_type = {
	.kind = SK_OBJECT, .attrs = network_ipam_attrs,
};

static const struct schema_type network_ipams_type = {
	.kind = SK_SET, .elem = &network_ipam_type,
};

/* Docker cannot change a network; every argument replaces it. */
static const struct schema_attr network_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED | SF_FORCE_NEW,
	  .description = "Network name" },
	/* kreuzwerker: optional+computed; "bridge" is what Docker picks on a single host. */
	{ .name = "driver", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"bridge\"",
	  .description = "Network driver, e.g. \"bridge\", \"overlay\" or \"macvlan\"" },
	{ .name = "internal", .type = &schema_bool,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Cut the network off from outside traffic" },
	{ .name = "attachable", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Let standalone containers attach to a swarm network" },
	{ .name = "ipv6", .type = &schema_bool, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Enable IPv6" },
	{ .name = "ipam_driver", .type = &schema_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .default_value = "\"default\"",
	  .description = "IP address management driver" },
	{ .name = "ipam_config", .type = &network_ipams_type,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Address ranges, [{ subnet = \"172.28.0.0/16\" }]" },
	{ .name = "options", .type = &schema_map_of_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Driver options" },
	{ .name = "labels", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Labels to set on the network" },
	ATTR_ID("Network ID"),
	{ .name = "scope", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"local\", \"global\" or \"swarm\"" },
	{ .name = NULL }
};

/* ---- volume ------------------------------------------------------------------------ */

/* Docker cannot change a volume either. */
static const struct schema_attr volume_attrs[] = {
	{ .name = "name", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Volume name; generated if unset" },
	{ .name = "driver", .type = &schema_string,
	  .flags = SF_OPTIONAL | SF_COMPUTED | SF_FORCE_NEW,
	  .description = "Volume driver; \"local\" if unset" },
	{ .name = "driver_opts", .type = &schema_map_of_string,
	  .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Driver options" },
	{ .name = "labels", .type = &schema_map_of_string, .flags = SF_OPTIONAL | SF_FORCE_NEW,
	  .description = "Labels to set on the volume" },
	ATTR_ID("Volume name"),
	{ .name = "mountpoint", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Where the volume lives on the host" },
	{ .name = NULL }
};

/* kreuzwerker declares no timeouts for any of these. */
static const struct schema_resource docker_resources[] = {
	{
		.type = "image",
		.description = "An image built from a local context, optionally tagged and pushed",
		.block = { .attrs = image_attrs },
		.id_attr = "id",
	},
	{
		.type = "container",
		.description = "A container, created and kept running",
		.block = { .attrs = container_attrs },
		.id_attr = "id",
	},
	{
		.type = "network",
		.description = "A Docker network",
		.block = { .attrs = network_attrs },
		.id_attr = "id",
	},
	{
		.type = "volume",
		.description = "A named Docker volume",
		.block = { .attrs = volume_attrs },
		.id_attr = "id",
	},
	{ .type = NULL }
};

/* ---- data sources ------------------------------------------------------------------ */

static const struct schema_attr registry_image_data_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Image name with tag, e.g. \"nginx:1.27\"" },
	{ .name = "insecure_skip_verify", .type = &schema_bool, .flags = SF_OPTIONAL,
	  .default_value = "false",
	  .description = "Do not verify the registry's TLS certificate" },
	ATTR_ID("Digest of the image, as sha256_digest"),
	{ .name = "sha256_digest", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "Manifest digest in the registry, \"sha256:...\"" },
	{ .name = NULL }
};

static const struct schema_attr image_data_attrs[] = {
	{ .name = "name", .type = &schema_string, .flags = SF_REQUIRED,
	  .description = "Image name, tag or ID in the local store" },
	ATTR_ID("Image ID, \"sha256:...\""),
	{ .name = "repo_digest", .type = &schema_string, .flags = SF_COMPUTED,
	  .description = "\"repo@sha256:...\", if the image came from a registry" },
	{ .name = NULL }
};

static const struct schema_resource docker_data_sources[] = {
	{
		.type = "registry_image",
		.description = "The current digest of an image in its registry, without pulling",
		.block = { .attrs = registry_image_data_attrs },
	},
	{
		.type = "image",
		.description = "An image already in the daemon's local store",
		.block = { .attrs = image_data_attrs },
	},
	{ .type = NULL }
};

const struct schema_provider schema_docker = {
	.name = "docker",
	.config = { .attrs = docker_config_attrs, .blocks = docker_config_blocks },
	.resources = docker_resources,
	.data_sources = docker_data_sources,
};
