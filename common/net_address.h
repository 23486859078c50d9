/*
 * net_address.h — numeric text for socket addresses. Pure; any thread.
 */
#ifndef YIWANG_COMMON_NET_ADDRESS_H
#define YIWANG_COMMON_NET_ADDRESS_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Writes the IP address of `sa` ("127.0.0.1", "::1") into buf, or "unknown" when it has none (len 0, AF_UNIX). */
void net_address_format_ip(const struct sockaddr_storage *sa, socklen_t len, char *buf, size_t size);

#endif
