/*
 * picohttpparser_abi.h — declarations of the picohttpparser functions that
 * libh2o-evloop 2.2.5 compiles in and exports (phr_*), whose header Debian's
 * libh2o-evloop-dev does not ship. They match deps/picohttpparser of h2o
 * 2.2.5; tests/unit/test_upstream_parser.c exercises them so an ABI change
 * would fail the build's tests rather than corrupt memory silently.
 */
#ifndef YIWANG_GATEWAY_PICOHTTPPARSER_ABI_H
#define YIWANG_GATEWAY_PICOHTTPPARSER_ABI_H

#include <stddef.h>
#include <sys/types.h>

struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Returns bytes consumed on success, -1 on a parse error, -2 when incomplete. */
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers, size_t last_len);

struct phr_chunked_decoder {
    size_t bytes_left_in_chunk;
    char consume_trailer;
    char _hex_count;
    char _state;
};

/* Decodes in place: on return *bufsz is the number of decoded bytes at the start of buf.
 * Returns -1 on error, -2 when more input is needed, else the number of undecoded bytes left after the end. */
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);
int phr_decode_chunked_is_in_data(struct phr_chunked_decoder *decoder);

#endif
