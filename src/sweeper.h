/* sweeper: the one timer thread — answers held connects whose timeout
 * passed and expires sessions idle past maxInterval. (Channels need no
 * sweeping: channel.c frees a channel when its last subscriber leaves.)
 *
 * Threads: its own; started and stopped by main.
 */
#ifndef BAYEUX_SWEEPER_H
#define BAYEUX_SWEEPER_H

int sweeper_start(void);
void sweeper_stop(void);

#endif
