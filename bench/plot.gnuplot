# bench/plot.gnuplot: draws one curve of bench/curves.sh from its CSV. Called as
#
#   gnuplot -e "curve='connections'; csv='bench/results/connections.csv'; \
#               png='bench/results/connections.png'; note='Debian 12, 2 cores, ...'" bench/plot.gnuplot
#
# has_per_app (apps only): 0 when the CSV has no bytes-per-app value to draw.
# Each CSV starts with a "# <machine>; <settings>" line (skipped here as a comment; the
# caller passes it as note) and a header line naming the columns.

set terminal pngcairo size 900,860 font "DejaVu Sans,11" noenhanced
set output png
set datafile separator ","
set key autotitle columnhead
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left box opaque
set style line 1 lw 2 pt 7 ps 1.1 lc rgb "#d62728"   # ignite-proxy
set style line 2 lw 2 pt 5 ps 1.1 lc rgb "#1f77b4"   # nginx
set style line 3 lw 2 pt 9 ps 1.3 lc rgb "#2ca02c"   # HAProxy

if (curve eq "connections") {
  set multiplot layout 2,1 title "Client connections: ignite-proxy, nginx and HAProxy as the same reverse proxy\n" . note
  set logscale x 2
  set xrange [*:*]
  set xlabel "concurrent keep-alive connections (wrk -t1 -c N, log scale)"
  set ylabel "requests per second"
  set key bottom left
  set yrange [0:*]
  set format y "%.0s%c"
  plot csv using 1:2 with linespoints ls 1 title "ignite-proxy", \
       ""  using 1:3 with linespoints ls 2 title "nginx", \
       ""  using 1:4 with linespoints ls 3 title "HAProxy"
  set ylabel "p99 latency (ms, log scale)"
  set key top left
  set logscale y 10
  set yrange [*:*]
  set format y "%g"
  plot csv using 1:5 with linespoints ls 1 title "ignite-proxy", \
       ""  using 1:6 with linespoints ls 2 title "nginx", \
       ""  using 1:7 with linespoints ls 3 title "HAProxy"
  unset multiplot
}

if (curve eq "held") {
  set multiplot layout 2,1 title "Requests held during one cold start: draining the hold queue into the pod\n" . note
  set logscale x 10
  set logscale y 10
  set xlabel "requests sent in one instant at an app with no pod (log scale)"
  set ylabel "drain time (ms, log scale)"
  set key top left
  plot csv using 1:6 with linespoints ls 1 title "ignite-proxy: pod listening -> last answer"
  unset logscale y
  set yrange [0:*]
  set ylabel "drain time per held request (microseconds)"
  set key bottom right
  plot csv using 1:7 with linespoints ls 1 title "ignite-proxy: drain time / requests"
  unset multiplot
}

if (curve eq "apps") {
  set terminal pngcairo size 900,1180 font "DejaVu Sans,11" noenhanced
  set output png
  set multiplot layout 3,1 title "Apps in the route table (config file, each an endpoints version)\n" . note
  set lmargin at screen 0.11
  set rmargin at screen 0.88
  set logscale x 10
  set xlabel "apps in the route table (log scale)"
  set ylabel "requests per second"
  set yrange [0:*]
  set format y "%.0s%c"
  set key bottom left
  plot csv using 1:7 with linespoints ls 1 title "ignite-proxy, wrk at several apps in turn"
  set yrange [*:*]
  set logscale y 10
  set format y "%g"
  set ylabel "RSS (MiB, log scale)"
  set y2label "bytes per app added"
  set y2tics
  set y2range [0:*]
  set format y2 "%g"
  set key top left
  if (has_per_app) {
    plot csv using 1:($3 / 1024) with linespoints ls 1 title "RSS, every endpoint ready", \
         ""  using 1:($6 / 1024) with linespoints ls 2 title "RSS after the reloads and the traffic", \
         ""  using 1:4 axes x1y2 with linespoints ls 3 title "bytes per app over the smallest table (right axis)"
  } else {
    plot csv using 1:($3 / 1024) with linespoints ls 1 title "RSS, every endpoint ready", \
         ""  using 1:($6 / 1024) with linespoints ls 2 title "RSS after the reloads and the traffic"
  }
  unset y2tics
  unset y2label
  set ylabel "milliseconds (log scale)"
  set format y "%.0f"
  plot csv using 1:($5 < 1 ? 1 : $5) with linespoints ls 1 title "reload: SIGHUP -> reloaded line (1 ms resolution; under 1 ms drawn at 1)", \
       ""  using 1:2 with linespoints ls 2 title "start-up: exec -> every endpoint probed ready"
  unset multiplot
}
