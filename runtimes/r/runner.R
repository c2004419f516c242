# Beacon worker runner for R algorithms: `Rscript --vanilla runner.R <entry file> <max reply bytes>`,
# run in the algorithm's working directory. Protocol (see src/execution/worker-process.ts):
#   stdin  per request a header line {"id", "content_type", "length": n}, then n bytes of input (text
#          and json as UTF-8); JSON is parsed here, within the depth and size limits, and an input
#          that breaks them gets {"id", "input_error": {"message", "reason"}} instead of a call
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
  requests <- file("stdin", open = "rb")
  max_input_bytes <- as.numeric(Sys.getenv("BEACON_MAX_INPUT_BYTES", "10485760"))
  # jsonlite recurses on the C stack and runs out of it between 200 and 300 levels: R's limit is 200.
  max_input_depth <- min(as.numeric(Sys.getenv("BEACON_MAX_INPUT_DEPTH", "512")), 200)
  read_exactly <- function(n) {
    parts <- list()
    got <- 0
    while (got < n) {
      chunk <- readBin(requests, "raw", n = n - got)
      if (length(chunk) == 0) stop("input ended early")
      parts[[length(parts) + 1L]] <- chunk
      got <- got + length(chunk)
    }
    if (length(parts) == 0) raw(0) else do.call(c, parts)
  }
  # Deepest [ / { nesting outside strings (vectorised: strings removed, then a running sum).
  json_depth <- function(text) {
    bare <- gsub('"(?:[^"\\\\]|\\\\.)*"', "", text, perl = TRUE)
    b <- utf8ToInt(gsub("[^][{}]", "", bare, perl = TRUE))
    if (length(b) == 0) return(0)
    steps <- ifelse(b == 91L | b == 123L, 1L, -1L)
    max(cumsum(steps))
  }
  input_refused <- function(reason, message) structure(class = c("beacon_input", "error", "condition"), list(message = message, call = NULL, reason = reason))
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
  decode_input <- function(req, bytes) {
    if (identical(req$content_type, "binary")) return(bytes)
    text <- rawToChar(bytes)
    Encoding(text) <- "UTF-8"
    if (identical(req$content_type, "text")) return(text)
    if (identical(req$content_type, "json")) {
      if (length(bytes) > max_input_bytes) stop(input_refused("too_large", sprintf("input too large: %.0f bytes, the limit is %.0f", length(bytes), max_input_bytes)))
      if (json_depth(text) > max_input_depth) stop(input_refused("too_deep", sprintf("input too deeply nested: the limit is %.0f levels", max_input_depth)))
      return(tryCatch(jsonlite::fromJSON(text, simplifyVector = TRUE), error = function(e) {
        why <- if (trimws(text) == "") "the body is empty" else conditionMessage(e)
        stop(input_refused("malformed", paste0("Invalid JSON input: ", why, ".")))
      }))
    }
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
      bytes <- if (req$length > 0) read_exactly(req$length) else raw(0)
      input <- tryCatch(decode_input(req, bytes), beacon_input = function(e) e)
      if (inherits(input, "beacon_input")) {
        reply <- to_json(list(id = req$id, input_error = list(message = conditionMessage(input), reason = input$reason)))
      } else {
        out <- call_safely(function(x) apply_fn(x), input)
        reply <- if (out$ok) encode_result(req$id, out$value) else error_line(req$id, out$message, "AlgorithmError", out$trace)
      }
      end_output(req$id)
      send_line(reply)
    }
    quit(save = "no", status = 0)
  })
})

.beacon_runner$run()
