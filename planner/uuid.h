/* uuid.h: random (version 4) UUIDs, for state lineages and lock IDs. */
#ifndef STK_UUID_H
#define STK_UUID_H

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" and its NUL. */
#define UUID_STR_SIZE 37

/* Fills out with a new lowercase UUID from OpenSSL's CSPRNG. Returns 0, or -1 when the
 * generator has no entropy to give (out is then an empty string). */
int uuid_v4(char out[UUID_STR_SIZE]);

/* Is s a UUID in the canonical 8-4-4-4-12 hexadecimal form (any version, any case)? */
int uuid_valid(const char *s);

#endif
