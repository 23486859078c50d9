#include <stdio.h>

#include "gateway/cli.h"

int cli_serve(int argc, char **argv)
{
    (void)argc, (void)argv;
    fputs("yiwang serve: not built yet\n", stderr);
    return 1;
}
