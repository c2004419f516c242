# Beacon worker runner for R algorithms: `Rscript --vanilla runner.R <entry file> <max reply bytes>`,
# run in the algorithm's working directory. Protocol (see src/execution/worker-process.ts):
#   stdin  one JSON request per line: {"id", "content_type": "text"|"json"|"binary", "data"}
#   fd 3   one JSON reply per line: {"ready": true} or {"ready": false, "error"} once, then per
#          request {"id", "content_type", "result"} or {"id", "error": {...}}
#   fd 1/2 belong to the algorithm; an end marker after each call tells the service where a call's
#          output stops.
local({
  beacon <- new.env()
  sys.source(file.path(Sys.getenv("BEACON_R_RUNTIME"), "beacon.R"), envir = beacon)
  attach(beacon, name = "beacon", warn.conflicts = FALSE)
})

.beacon_runner <- local({
  args <- commandArgs(trailingOnly = TRUE)
  entry <- args[[1]]
  max_bytes <- as.numeric(args[[2]])
  # R cannot open /dev/fd/3 when fd 3 is a socket (as Node makes it), but a child `cat` can
  # write to its inherited fd 3.
  replies <- pipe("exec cat >&3", open = "wb")
  requests <- file("stdin", open = "r")
  to_json <- function(x) as.character(jsonlite::toJSON(x, auto_unbox = TRUE, digits = NA, null = "null", na = "null"))

  send_line <- function(line) {
    writeBin(c(charToRaw(enc2utf8(line)), as.raw(10L)), replies)
    flush(replies)
  }
  error_line <- function(id, message, error_type, stacktrace = "") {
    err <- list(message = message, stacktrace = stacktrace, error_type = error_type)
    if (is.null(id)) to_json(list(ready = FALSE, error = err)) else to_json(list(id = id, error = err))
  }

  # Calls from apply() down to the error, without the runner's and the condition system's frames.
  format_trace <- function(calls) {
    text <- vapply(calls, function(cl) paste(deparse(cl, nlines = 1L), collapse = ""), "")
    start <- match("f(input)", text)
    if (!is.na(start)) text <- text[seq(start + 1L, length.out = max(0L, length(text) - start))]
    text <- text[!grepl("^(\\.handleSimpleError|h\\(simpleError)", text)]
    paste(rev(text), collapse = "\n")
  }
  call_safely <- function(f, input) {
    trace <- ""
    tryCatch(
      withCallingHandlers(list(ok = TRUE, value = f(input)), error = function(e) trace <<- format_trace(sys.calls())),
      error = function(e) list(ok = FALSE, message = conditionMessage(e), trace = trace)
    )
  }

  has_non_json <- function(x) {
    if (is.function(x) || is.environment(x) || isS4(x) || typeof(x) %in% c("externalptr", "symbol", "language", "closure")) return(TRUE)
    is.list(x) && any(vapply(x, has_non_json, logical(1)))
  }
  encode_result <- function(id, value) {
    head <- paste0('{"id":', to_json(id))
    if (is.raw(value)) {
      b64 <- gsub("[\r\n]", "", jsonlite::base64_enc(value))
      line <- paste0(head, ',"content_type":"binary","result":"', b64, '"}')
    } else if (is.character(value) && length(value) == 1L && is.null(names(value)) && !is.na(value)) {
      line <- paste0(head, ',"content_type":"text","result":', to_json(value), "}")
    } else {
      if (has_non_json(value)) {
        return(error_line(id, paste0("apply() returned a value that cannot be serialised to JSON (", class(value)[1], ")"), "AlgorithmError"))
      }
      json <- tryCatch(if (is.null(value)) "null" else to_json(value), error = function(e) e)
      if (inherits(json, "error")) {
        return(error_line(id, paste("apply() returned a value that cannot be serialised to JSON:", conditionMessage(json)), "AlgorithmError"))
      }
      line <- paste0(head, ',"content_type":"json","result":', json, "}")
    }
    size <- nchar(line, type = "bytes")
    if (size > max_bytes) {
      return(error_line(id, sprintf("the result is %.0f bytes, more than the limit of %.0f bytes", size, max_bytes), "TooLargeError"))
    }
    line
  }
  decode_input <- function(req) {
    if (identical(req$content_type, "binary")) return(jsonlite::base64_dec(req$data))
    if (req$content_type %in% c("text", "json")) return(req$data)
    stop("unsupported content_type ", req$content_type)
  }
  end_output <- function(id) {
    marker <- paste0("\036beacon-end:", id, "\036")
    try(silent = TRUE, { cat(marker, file = stdout()); flush(stdout()) })
    try(silent = TRUE, { cat(marker, file = stderr()); flush(stderr()) })
  }

  list(run = function() {
    loaded <- call_safely(function(input) sys.source(entry, envir = globalenv(), keep.source = TRUE), NULL)
    apply_fn <- get0("apply", envir = globalenv(), inherits = FALSE)
    if (loaded$ok && !is.function(apply_fn)) {
      loaded <- list(ok = FALSE, message = paste(entry, "does not define apply <- function(input)"), trace = "")
    }
    if (!loaded$ok) {
      send_line(error_line(NULL, loaded$message, "LoadingError", loaded$trace))
      quit(save = "no", status = 1)
    }
    send_line('{"ready":true}')
    repeat {
      line <- readLines(requests, n = 1L, encoding = "UTF-8")
      if (length(line) == 0) break
      req <- jsonlite::fromJSON(line, simplifyVector = TRUE)
      if (!is.null(req$algorithmia_api)) Sys.setenv(ALGORITHMIA_API = req$algorithmia_api) # per-call token
      out <- call_safely(function(input) apply_fn(decode_input(input)), req)
      reply <- if (out$ok) encode_result(req$id, out$value) else error_line(req$id, out$message, "AlgorithmError", out$trace)
      end_output(req$id)
      send_line(reply)
    }
    quit(save = "no", status = 0)
  })
})

.beacon_runner$run()
