/* main: options, start-up and shutdown order, signals.
 *
 * Threads: the main thread starts the sweeper and the accept threads, then
 * waits for SIGTERM/SIGINT in sigwait(); every other thread has those signals
 * blocked, so libfcgi's own handlers never run and accept() is not left
 * ignoring a shutdown request.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "backplane.h"
#include "channel.h"
#include "chat.h"
#include "config.h"
#include "cors.h"
#include "fcgi_transport.h"
#include "log.h"
#include "poll.h"
#include "service.h"
#include "session.h"
#include "status.h"
#include "sweeper.h"



static void ignore_signal(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    config_defaults(&config);
    int rc = config_parse(&config, argc, argv, stdout, stderr);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    log_set_level((enum log_level)config.log_level);
    /* a bad security file stops the start: running with a policy half
     * applied, or none, would open what the operator meant to close */
    if (auth_load(config.auth_file, config.policy_file, config.auth_required, stderr) < 0)
        return 2;
    for (size_t i = 0; i < config.n_allow_origins; i++)
        if (cors_allow(config.allow_origins[i], stderr) < 0)
            return 2;

    /* Handlers installed before FCGX_Init keep libfcgi from installing its
     * own flag-setting ones; the signals are then blocked everywhere and
     * taken by sigwait below. */
    struct sigaction sa = { .sa_handler = ignore_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    /* a bad option is a bad command line (2), found before the socket opens */
    if (backplane_check_url(config.redis_url) < 0)
        return 2;
    if (FCGX_Init() != 0) {
        log_error("libfcgi initialisation failed");
        return 1;
    }
    if (transport_open(config.listen, config.backlog, config.socket_mode) < 0)
        return 1;

    poll_registry_init(transport_complete, transport_conn_dead);
    session_table_init();
    channel_table_init();
    service_register_builtin();
    chat_init();
    status_init();

    if (backplane_start(config.redis_url) < 0) {
        transport_close();
        return 1;
    }
    if (sweeper_start() < 0 || transport_start(config.threads) < 0) {
        log_error("cannot start threads: %s", strerror(errno));
        return 1;
    }
    log_info("bayeux-fcgi %s ready: %d accept threads, timeout %ld ms, max-interval %ld ms",
             PACKAGE_VERSION, config.threads, config.timeout_ms, config.max_interval_ms);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    log_info("signal %d: answering held connects and stopping", sig);

    /* stop taking requests, then answer every held one, then free tables */
    transport_stop();
    backplane_stop();
    sweeper_stop();
    size_t held = poll_registry_count();
    session_table_shutdown();
    chat_shutdown();
    channel_table_shutdown();
    poll_registry_shutdown();
    service_clear();
    cors_clear();
    auth_clear();
    transport_close();
    log_info("stopped (%zu held connects answered)", held);
    return 0;
}
