/* CRC-32 as zlib computes it (reflected, polynomial 0xEDB88320): bitwise, no table, since guests
 * checksum only a few kilobytes. */
#include "guest.h"

uint32_t crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}
