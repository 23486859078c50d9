#include "common/net_address.h"

#include <arpa/inet.h>
#include <stdio.h>

void net_address_format_ip(const struct sockaddr_storage *sa, socklen_t len, char *buf, size_t size)
{
    const void *addr = NULL;
    if (len != 0 && sa->ss_family == AF_INET)
        addr = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (len != 0 && sa->ss_family == AF_INET6)
        addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (addr == NULL || inet_ntop(sa->ss_family, addr, buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "unknown");
}
