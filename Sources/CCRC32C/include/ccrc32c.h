#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, RFC 3720's polynomial 0x1EDC6F41, reflected): S3's `x-amz-checksum-crc32c`.
/// `crc` is the value so far (0 to start); the result goes in as `crc` for the next block.
uint32_t omnipost_crc32c(uint32_t crc, const void *bytes, size_t count);

#endif
