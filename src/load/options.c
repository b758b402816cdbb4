/* options: bayeux-load's command line — defaults, --help, parsing into
 * the global `opt`.
 *
 * Processes: the parent parses before forking the workers; read-only after.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"

struct load_options opt = {
    .host = "127.0.0.1", .port = 8080, .path = "/cometd", .users = 100, .rooms = 10, .ramp = 1000,
    .burst = 10, .size = 50, .sources = 1, .publishers = 64, .procs = 1, .interval_ms = 1000,
    .duration_s = 30, .steady_factor = 2.0, .steady_floor_ms = 25, .json = NULL,
};

void load_usage(FILE *out)
{
    fprintf(out,
        "Usage: bayeux-load [OPTION]...\n"
        "The chat load test against a Bayeux server: users long-poll in rooms, a\n"
        "publisher sends bursts of messages to random rooms at a fixed interval.\n\n"
        "  --url URL          Bayeux endpoint, http://HOST:PORT/PATH [http://127.0.0.1:8080/cometd]\n"
        "  --users N          simulated users                       [100]\n"
        "  --rooms R          rooms, users spread evenly            [10]\n"
        "  --ramp N           users started per second              [1000]\n"
        "  --interval MS      pause between bursts                  [1000]\n"
        "  --burst N          messages per burst                    [10]\n"
        "  --size BYTES       chat payload size                     [50]\n"
        "  --duration S       how long to publish                   [30]\n"
        "  --sources N        spread connections over 127.0.0.1..N  [1]\n"
        "  --publishers N     publish connections at most, opened as needed;\n"
        "                     a burst is one batch on a free one   [64]\n"
        "  --procs N          worker processes sharing the users    [1]\n"
        "  --steady-factor F  steady if p50 of the last third <= F x the first's [2]\n"
        "  --steady-floor MS  ... or <= F x this floor (noise at low latency) [25]\n"
        "  --json FILE        also write the summary there\n"
        "  --help             this help\n\n"
        "A progress line goes to stderr every second; the summary (JSON) to stdout.\n"
        "Exit status: 0 done, 1 users could not connect or a worker died, 2 bad options.\n");
}

static int parse_url(const char *url)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 || !(u.field_set & (1 << UF_HOST)))
        return -1;
    snprintf(opt.host, sizeof opt.host, "%.*s", u.field_data[UF_HOST].len, url + u.field_data[UF_HOST].off);
    opt.port = u.field_set & (1 << UF_PORT) ? u.port : 80;
    if (u.field_set & (1 << UF_PATH))
        snprintf(opt.path, sizeof opt.path, "%.*s", u.field_data[UF_PATH].len, url + u.field_data[UF_PATH].off);
    struct in_addr a;
    return inet_pton(AF_INET, opt.host, &a) == 1 ? 0 : -1;
}

int load_parse_args(int argc, char **argv)
{
    static const struct option o[] = {
        { "url", 1, 0, 'u' }, { "users", 1, 0, 'n' }, { "rooms", 1, 0, 'r' }, { "ramp", 1, 0, 'R' },
        { "interval", 1, 0, 'i' }, { "burst", 1, 0, 'b' }, { "size", 1, 0, 's' },
        { "duration", 1, 0, 'd' }, { "sources", 1, 0, 'S' }, { "publishers", 1, 0, 'p' },
        { "procs", 1, 0, 'P' }, { "steady-factor", 1, 0, 'f' }, { "steady-floor", 1, 0, 'F' },
        { "json", 1, 0, 'j' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int c, li = 0;
    while ((c = getopt_long(argc, argv, "", o, &li)) != -1) {
        char *end = NULL;
        long v = 0;
        if (optarg && c != 'u' && c != 'j' && c != 'f') {
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end) {
                fprintf(stderr, "bayeux-load: --%s needs a whole number, not '%s'\n", o[li].name, optarg);
                return -1;
            }
        }
        switch (c) {
        case 'u': if (parse_url(optarg) < 0) { fprintf(stderr, "bayeux-load: bad --url (need http://IPv4:PORT/path)\n"); return -1; } break;
        case 'n': opt.users = (int)v; break;
        case 'r': opt.rooms = (int)v; break;
        case 'R': opt.ramp = (int)v; break;
        case 'i': opt.interval_ms = v; break;
        case 'b': opt.burst = (int)v; break;
        case 's': opt.size = (int)v; break;
        case 'd': opt.duration_s = v; break;
        case 'S': opt.sources = (int)v; break;
        case 'p': opt.publishers = (int)v; break;
        case 'P': opt.procs = (int)v; break;
        case 'F': opt.steady_floor_ms = v; break;
        case 'f': opt.steady_factor = strtod(optarg, &end); if (*end) opt.steady_factor = 0; break;
        case 'j': opt.json = optarg; break;
        case 'h': load_usage(stdout); exit(0);
        default: load_usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bayeux-load: unexpected argument '%s'; see --help\n", argv[optind]);
        return -1;
    }
    if (opt.users < 1 || opt.rooms < 1 || opt.ramp < 1 || opt.interval_ms < 1 || opt.burst < 1 ||
        opt.size < 1 || opt.duration_s < 1 || opt.sources < 1 || opt.sources > 254 ||
        opt.publishers < 1 || opt.users > 1000000 || opt.rooms > 100000 || opt.procs < 1 ||
        opt.procs > LOAD_MAX_PROCS || opt.procs > opt.users || opt.steady_factor < 1 ||
        opt.duration_s > 86400 || opt.burst > 100000 || opt.steady_floor_ms < 0 ||
        opt.publishers > 10000) {
        fprintf(stderr, "bayeux-load: option out of range; see --help\n");
        return -1;
    }
    return 0;
}
