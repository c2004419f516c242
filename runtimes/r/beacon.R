# Helpers available to R algorithms running in Beacon workers (the runner attaches them):
#   reportInsights(list(cats_in_image = 4, approved = TRUE))
#   getAlgorithmiaClient()$reportInsights(list(...))   # the official R client's spelling
#   getAlgorithmiaClient()$algo("owner/name/1.0.0")$pipe(input)$result   # call another algorithm
#   algo("owner/name")$pipe(input)$result
# Calls go to $ALGORITHMIA_API/v1/algo/..., which inside a worker carries the call's token: the
# nested call runs for whoever called this algorithm. A failed call stops with the callee's message.
# The request matches the official clients: POST $ALGORITHMIA_API/v1/insights with the body
# [{"insight_key": k, "insight_value": v}, ...]. Base R has no HTTP client, so this writes a plain
# HTTP/1.0 request on a socketConnection (http:// only: the endpoint is the Beacon service).
# A refused report stops with the server's message.

beacon_http_post <- function(url, body, content_type = "application/json", timeout = 30) {
  m <- regmatches(url, regexec("^http://([^/:]+)(:([0-9]+))?(/.*)?$", url))[[1]]
  if (length(m) == 0) stop("reportInsights supports http:// addresses only, got ", url, call. = FALSE)
  host <- m[2]
  port <- if (m[4] == "") 80L else as.integer(m[4])
  payload <- if (is.raw(body)) body else charToRaw(enc2utf8(body))
  head <- paste0(
    "POST ", m[5], " HTTP/1.0\r\n",
    "Host: ", host, ":", port, "\r\n",
    "Content-Type: ", content_type, "\r\n",
    "Content-Length: ", length(payload), "\r\n\r\n"
  )
  con <- socketConnection(host, port, blocking = TRUE, open = "r+b", timeout = timeout)
  on.exit(close(con))
  writeBin(c(charToRaw(head), payload), con)
  flush(con)
  chunks <- list()
  repeat {
    chunk <- readBin(con, "raw", 65536L)
    if (length(chunk) == 0) break
    chunks[[length(chunks) + 1L]] <- chunk
  }
  text <- rawToChar(do.call(c, chunks))
  Encoding(text) <- "UTF-8"
  split <- regexpr("\r\n\r\n", text, fixed = TRUE)
  status_line <- sub("\r\n.*$", "", text)
  list(
    status = as.integer(sub("^HTTP/[0-9.]+ ([0-9]{3}).*$", "\\1", status_line)),
    body = if (split > 0) substring(text, split + 4L) else ""
  )
}

reportInsights <- function(insights) {
  keys <- names(insights)
  if (!is.list(insights) && !is.atomic(insights)) stop("reportInsights expects a named list", call. = FALSE)
  if (length(insights) > 0 && (is.null(keys) || any(keys == ""))) {
    stop("reportInsights expects a named list, e.g. list(cats_in_image = 4)", call. = FALSE)
  }
  pairs <- lapply(seq_along(insights), function(i) list(insight_key = keys[[i]], insight_value = insights[[i]]))
  body <- as.character(jsonlite::toJSON(pairs, auto_unbox = TRUE, digits = NA, null = "null", na = "null"))
  base <- Sys.getenv("ALGORITHMIA_API", "http://localhost:9000")
  if (base == "") base <- "http://localhost:9000"
  reply <- beacon_http_post(paste0(base, "/v1/insights"), body)
  if (is.na(reply$status) || reply$status < 200 || reply$status >= 300) {
    message <- tryCatch(jsonlite::fromJSON(reply$body)$error$message, error = function(e) NULL)
    if (!is.character(message) || length(message) != 1) {
      message <- paste("insights report refused with HTTP", reply$status)
    }
    stop(message, call. = FALSE)
  }
  invisible(TRUE)
}

algo <- function(ref) {
  path <- gsub("^/+|/+$", "", sub("^algo://", "", ref))
  options <- list()
  self <- list()
  self$setOptions <- function(timeout = 300, stdout = FALSE, output = NULL) {
    options <<- list(timeout = timeout, stdout = if (isTRUE(stdout)) "true" else "false", output = output)
    self
  }
  self$pipe <- function(input) {
    if (is.raw(input)) {
      body <- input; type <- "application/octet-stream"
    } else if (is.character(input) && length(input) == 1) {
      body <- input; type <- "text/plain"
    } else {
      body <- as.character(jsonlite::toJSON(input, auto_unbox = TRUE, digits = NA, null = "null")); type <- "application/json"
    }
    query <- Filter(Negate(is.null), options)
    qs <- if (length(query) == 0) "" else paste0("?", paste(names(query), unlist(query), sep = "=", collapse = "&"))
    base <- Sys.getenv("ALGORITHMIA_API", "http://localhost:9000")
    reply <- beacon_http_post(paste0(base, "/v1/algo/", path, qs), body, type, timeout = 3600)
    parsed <- tryCatch(jsonlite::fromJSON(reply$body, simplifyVector = FALSE), error = function(e) NULL)
    if (is.null(parsed)) stop(paste("algorithm call failed with HTTP", reply$status), call. = FALSE)
    if (!is.null(parsed$error)) {
      message <- if (is.list(parsed$error)) parsed$error$message else parsed$error
      stop(if (is.character(message)) message else paste("HTTP", reply$status), call. = FALSE)
    }
    parsed
  }
  self
}

getAlgorithmiaClient <- function(...) list(reportInsights = reportInsights, algo = algo)
