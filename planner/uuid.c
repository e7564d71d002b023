#include "planner/uuid.h"

#include <ctype.h>
#include <stdio.h>

#include <openssl/rand.h>

int uuid_v4(char out[UUID_STR_SIZE])
{
	unsigned char b[16];

	out[0] = '\0';
	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	/* RFC 9562: version 4 in the high nibble of byte 6, variant 10 in byte 8 */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_STR_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int uuid_valid(const char *s)
{
	for (int i = 0; i < UUID_STR_SIZE - 1; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return s[UUID_STR_SIZE - 1] == '\0';
}
