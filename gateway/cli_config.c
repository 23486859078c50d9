#include <stdio.h>

#include "gateway/cli.h"

int cli_config(int argc, char **argv)
{
    (void)argc, (void)argv;
    fputs("yiwang config: not built yet\n", stderr);
    return 1;
}
