# plot.gp: the benchmark matrix's charts from bench/run-matrix output: p99 latency against delivered msg/s (bubbles), memory per held user.
#
# Usage: gnuplot -c bench/plot.gp DIR ["bayeux apache faye cometd"]
# Reads DIR/runs.csv (one line a sweep step: target,users,rooms,interval,
# delivered_per_s,p50_ms,p99_ms,steady,lost,duplicates,ok; header commented)
# and DIR/memory.csv; writes DIR/latency.png and DIR/memory.png.  The second
# argument chooses and orders the servers (default all four).

if (ARGC < 1) { print "usage: gnuplot -c bench/plot.gp DIR [\"bayeux apache faye cometd\"]"; exit status 2 }
dir = ARG1
servers = (ARGC >= 2 && strlen(ARG2) > 0) ? ARG2 : "bayeux apache faye cometd"
runs = dir . "/runs.csv"
mem = dir . "/memory.csv"

# one colour per server, the same in both charts
colour(t) = t eq "bayeux" ? 0x1f5fb4 : t eq "apache" ? 0x8e44ad : t eq "faye" ? 0x2e9e44 : t eq "cometd" ? 0xd62728 : 0x555555
label(t) = t eq "bayeux" ? "bayeux-fcgi + lighttpd" : t eq "apache" ? "bayeux-fcgi + Apache" : t eq "faye" ? "Faye 1.4 (node)" : t eq "cometd" ? "cometd-nodejs-server 1.2" : t
# bubble area grows with the users: 1,000 -> 1.3, 19,000 -> 4.3
bubble(u) = 0.35 + 0.9 * sqrt(u / 1000.0)

set datafile separator ","
set terminal pngcairo size 1100,720 enhanced font "DejaVu Sans,11"

# ---------------------------------------------------------- latency ---
set output dir . "/latency.png"
set title "p99 latency against delivered messages/s (bursts of 10 x 50 B to random rooms)"
set xlabel "delivered messages / s"
set ylabel "p99 latency, ms"
set logscale xy
set format x "%.0s%c"
set format y "%g"
set mxtics 10
set mytics 10
set grid xtics ytics mxtics mytics lc rgb "#d8d8d8", lc rgb "#eeeeee"
set key outside right top box opaque spacing 1.3
# a margin around the points (a factor 1.6 each way on the log axes)
stats runs using 5:7 nooutput
set xrange [STATS_min_x / 1.6 : STATS_max_x * 1.6]
set yrange [(STATS_min_y > 0 ? STATS_min_y : 0.1) / 1.6 : STATS_max_y * 1.6 < 1500 ? 1500 : STATS_max_y * 1.6]
set arrow 1 from graph 0, first 250 to graph 1, first 250 nohead dt 2 lc rgb "#888888"
set arrow 2 from graph 0, first 1000 to graph 1, first 1000 nohead dt 2 lc rgb "#888888"
set label 1 "250 ms" at graph 0.01, first 250 offset 0, 0.6 tc rgb "#666666" font ",9"
set label 2 "1 s" at graph 0.01, first 1000 offset 0, 0.6 tc rgb "#666666" font ",9"
set label 3 "filled: 100 rooms\nopen: 1000 rooms\nbubble size: users\n(1k, 5k, 10k, 19k)" at graph 1.03, graph 0.12 font ",10" tc rgb "#444444"

# series: each server x rooms; points of other series are NaN (skipped)
plot for [t in servers] runs using 5:((strcol(1) eq t && $3 == 100) ? $7 : NaN):(bubble($2)) \
         with points pt 7 ps variable lc rgb colour(t) title label(t), \
     for [t in servers] runs using 5:((strcol(1) eq t && $3 != 100) ? $7 : NaN):(bubble($2)) \
         with points pt 6 ps variable lw 2 lc rgb colour(t) notitle
unset arrow
unset label

# ----------------------------------------------------------- memory ---
set output dir . "/memory.png"
set title "Memory per held user (RSS growth from the fresh server / users)"
set xlabel "users holding a long-poll"
set ylabel "KiB per user (log scale)"
unset logscale
set logscale xy
set format x "%.0s%c"
set format y "%g"
# y range from the data (before any x range, which stats would apply)
set xrange [*:*]
set yrange [*:*]
stats mem using ((valid(5) && $5 > 0) ? $5 : $6) nooutput
ymin = STATS_min > 0 ? STATS_min / 2 : 0.1
stats mem using 6 nooutput
set yrange [ymin : STATS_max * 2]
set xrange [700:25000]
set xtics (1000, 2000, 5000, 10000, 19000)
set ytics (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
set key outside right top box opaque spacing 1.3
set grid xtics ytics lc rgb "#dddddd"
set label 4 "solid, filled: 100 rooms\ndashed, open: 1000 rooms" at graph 1.03, graph 0.08 font ",10" tc rgb "#444444"
responders = (strstrt(servers, "bayeux") ? "bayeux " : "") . (strstrt(servers, "apache") ? "apache" : "")
# memory.csv: target,users,rooms,server_kib_per_user,responder_kib_per_user,total_kib_per_user,...
# sorted by target, rooms, users (a line joins contiguous points only); the
# first line (header) has no numbers and is skipped
plot for [t in servers] mem using 2:((strcol(1) eq t && $3 == 100) ? $6 : NaN) \
         with linespoints pt 7 ps 1.4 lw 2 lc rgb colour(t) title label(t) . ", total", \
     for [t in servers] mem using 2:((strcol(1) eq t && $3 != 100) ? $6 : NaN) \
         with linespoints pt 6 ps 1.4 lw 2 dt 2 lc rgb colour(t) notitle, \
     for [t in responders] mem using 2:((strcol(1) eq t && $3 == 100 && strlen(strcol(5)) > 0) ? $5 : NaN) \
         with linespoints pt 9 ps 1.2 lw 1 dt 3 lc rgb colour(t) title label(t) . ": responder alone"
