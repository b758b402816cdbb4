/* options: bayeux-load's command line — defaults, --help, parsing into
 * the global `opt`.
 *
 * Processes: the parent parses before forking the workers; read-only after.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
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
        "  --source-spread    use 127.1.0.1, 127.2.37.1, .., 127.N.(37(N-1) mod 256).1\n"
        "                     for the N sources: they differ early in their text, so\n"
        "                     a web server hashing the client address (lighttpd's\n"
        "                     fastcgi.balance \"sticky\") spreads them over backends\n"
        "  --source-list LIST connect from these IPv4 addresses (comma-separated, up\n"
        "                     to 4096, e.g. 127.3.7.1,127.9.1.1): user i from the\n"
        "                     (i mod count)-th; replaces --sources\n"
        "                     With either of these two, the publish connections come\n"
        "                     from the publisher's address (as one browser's would)\n"
        "                     and a failed bind fails the connection.\n"
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

/* --source-spread: address i (from 0) is 127.(i+1).(37i mod 256).1. The
 * second byte makes every address distinct; both bytes change the text
 * early, where a string hash (lighttpd's djb hash of the address text,
 * XORed with each backend's) carries the change into the high bits. */
static void source_spread(void)
{
    opt.source_addrs = xcalloc((size_t)opt.sources, sizeof *opt.source_addrs);
    for (int i = 0; i < opt.sources; i++)
        opt.source_addrs[i] = htonl(0x7f000001u | (uint32_t)(i + 1) << 16 | (uint32_t)(37 * i % 256) << 8);
}

/* Whether a TCP socket can be bound to a (network order) on any port: the
 * address is one of this host's. */
static bool source_bindable(uint32_t a)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;   /* checks the address without taking a port */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = a };
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    int err = errno;
    close(fd);
    errno = err;
    return ok;
}

/* --source-list A,B,...: fills opt.source_addrs and opt.sources. Returns 0,
 * or -1 after a message. */
static int parse_source_list(const char *list)
{
    enum { MAX_LIST = 4096 };
    opt.source_addrs = xcalloc(MAX_LIST, sizeof *opt.source_addrs);
    opt.sources = 0;
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        char one[INET_ADDRSTRLEN];
        struct in_addr a;
        if (n == 0 || n >= sizeof one || opt.sources == MAX_LIST) {
            fprintf(stderr, "bayeux-load: --source-list: 1 to %d IPv4 addresses, comma-separated\n", MAX_LIST);
            return -1;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        if (inet_pton(AF_INET, one, &a) != 1) {
            fprintf(stderr, "bayeux-load: --source-list: '%s' is not an IPv4 address\n", one);
            return -1;
        }
        if (!source_bindable(a.s_addr)) {
            fprintf(stderr, "bayeux-load: --source-list: cannot bind %s: %s\n", one, strerror(errno));
            return -1;
        }
        opt.source_addrs[opt.sources++] = a.s_addr;
        p += n;
        if (!*p)
            return 0;
    }
}

int load_parse_args(int argc, char **argv)
{
    static const struct option o[] = {
        { "url", 1, 0, 'u' }, { "users", 1, 0, 'n' }, { "rooms", 1, 0, 'r' }, { "ramp", 1, 0, 'R' },
        { "interval", 1, 0, 'i' }, { "burst", 1, 0, 'b' }, { "size", 1, 0, 's' },
        { "duration", 1, 0, 'd' }, { "sources", 1, 0, 'S' }, { "publishers", 1, 0, 'p' },
        { "procs", 1, 0, 'P' }, { "steady-factor", 1, 0, 'f' }, { "steady-floor", 1, 0, 'F' },
        { "json", 1, 0, 'j' }, { "help", 0, 0, 'h' }, { "source-spread", 0, 0, 'x' },
        { "source-list", 1, 0, 'L' }, { 0, 0, 0, 0 }
    };
    int c, li = 0;
    bool spread = false, sources_given = false;
    const char *list = NULL;
    while ((c = getopt_long(argc, argv, "", o, &li)) != -1) {
        char *end = NULL;
        long v = 0;
        if (optarg && c != 'u' && c != 'j' && c != 'f' && c != 'L') {
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
        case 'S': opt.sources = (int)v; sources_given = true; break;
        case 'x': spread = true; break;
        case 'L': list = optarg; break;
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
    if (list && (spread || sources_given)) {
        fprintf(stderr, "bayeux-load: --source-list replaces --sources and --source-spread; give one\n");
        return -1;
    }
    if (list)
        return parse_source_list(list);
    if (spread)
        source_spread();
    return 0;
}
