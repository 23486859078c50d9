/*
 * pipeline.h — the public listener's request handler.
 *
 * For every request, in order: request id and trace context, header limits
 * and validation, path normalisation (ambiguous encodings refused), route
 * match, body limit, then the proxy. No step touches a database or takes a
 * lock: everything comes from the thread's pinned snapshot. Every gateway-made
 * answer uses the error envelope.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_PIPELINE_H
#define YIWANG_GATEWAY_PIPELINE_H

#include <h2o.h>

/* Registers the pipeline as the handler of `pathconf`. */
void pipeline_register(h2o_pathconf_t *pathconf);

#endif
