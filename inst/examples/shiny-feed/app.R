## A live feed in Shiny: the app subscribes to a ZeroMQ PUB endpoint and
## shows every message as it arrives, with on.message(): the latest value,
## how many have come, and a chart of the last 100.
##
## Start a publisher (publisher.R beside this file sends a random walk, one
## number every 0.2 s, and prints its endpoint), then the app with that
## endpoint in RZMQ_FEED_ENDPOINT:
##   Rscript inst/examples/shiny-feed/publisher.R tcp://127.0.0.1:5556 &
##   RZMQ_FEED_ENDPOINT=tcp://127.0.0.1:5556 \
##     Rscript -e 'shiny::runApp(system.file("examples", "shiny-feed", package = "rzmq"))'
##
## Messages are R objects sent with send.socket(); numbers are charted, and
## anything else is shown as text. Needs the shiny and later (>= 1.4.0)
## packages.
library(shiny)
library(rzmq)

endpoint <- Sys.getenv("RZMQ_FEED_ENDPOINT", "tcp://127.0.0.1:5556")
history_length <- 100L

## One context for the app; each browser session gets its own SUB socket.
context <- init.context()

ui <- fluidPage(
  titlePanel("rzmq live feed"),
  p("Subscribed to ", code(endpoint)),
  h3("Latest: ", textOutput("latest", inline = TRUE)),
  p(textOutput("count", inline = TRUE)),
  uiOutput("chart")
)

server <- function(input, output, session) {
  feed <- init.socket(context, "ZMQ_SUB")
  subscribe(feed, "")
  connect.socket(feed, endpoint)

  ## The feed's state lives in plain variables; `updated` tells the outputs
  ## that it changed. Shiny redraws once per turn of the event loop, however
  ## many messages came in it.
  n <- 0L
  latest <- NULL
  history <- numeric()
  updated <- reactiveVal(0L)

  watcher <- on.message(feed, function(msg) {
    n <<- n + 1L
    latest <<- msg
    if (is.numeric(msg) && length(msg) == 1L) {
      history <<- utils::tail(c(history, msg), history_length)
    }
    updated(n)
  })
  session$onSessionEnded(function() {
    cancel.on.message(watcher)
    destroy.socket(feed)
  })

  output$latest <- renderText({
    updated()
    if (n == 0L) "waiting for the first message" else paste(format(latest), collapse = " ")
  })
  output$count <- renderText({
    updated()
    sprintf("%d message%s received", n, if (n == 1L) "" else "s")
  })
  output$chart <- renderUI({
    updated()
    line_chart(history)
  })
}

## An SVG line chart of `values`, scaled to fit; the values are also kept in
## the chart's data-values attribute.
line_chart <- function(values, width = 600, height = 200) {
  frame <- tags$rect(x = 0, y = 0, width = width, height = height,
                     fill = "none", stroke = "#ccc")
  line <- NULL
  if (length(values)) {
    x <- if (length(values) == 1L) width / 2 else
      (seq_along(values) - 1) / (length(values) - 1) * width
    span <- range(values)
    y <- if (diff(span) == 0) rep(height / 2, length(values)) else
      height - 10 - (values - span[1]) / diff(span) * (height - 20)
    line <- tags$polyline(points = paste(sprintf("%.1f,%.1f", x, y), collapse = " "),
                          fill = "none", stroke = "steelblue", `stroke-width` = 2)
  }
  tags$svg(id = "feed-chart", width = width, height = height,
           viewBox = sprintf("0 0 %d %d", width, height),
           `data-values` = paste(values, collapse = " "),
           frame, line)
}

shinyApp(ui, server)
