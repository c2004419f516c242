# Helpers available to R algorithms running in Beacon workers (the runner attaches them):
#   reportInsights(list(cats_in_image = 4, approved = TRUE))
#   getAlgorithmiaClient()$reportInsights(list(...))   # the official R client's spelling
# The request matches the official clients: POST $ALGORITHMIA_API/v1/insights with the body
# [{"insight_key": k, "insight_value": v}, ...]. Base R has no HTTP client, so this writes a plain
# HTTP/1.0 request on a socketConnection (http:// only: the endpoint is the Beacon service).
# A refused report stops with the server's message.

beacon_http_post <- function(url, body) {
  m <- regmatches(url, regexec("^http://([^/:]+)(:([0-9]+))?(/.*)?$", url))[[1]]
  if (length(m) == 0) stop("reportInsights supports http:// addresses only, got ", url, call. = FALSE)
  host <- m[2]
  port <- if (m[4] == "") 80L else as.integer(m[4])
  payload <- charToRaw(enc2utf8(body))
  head <- paste0(
    "POST ", m[5], " HTTP/1.0\r\n",
    "Host: ", host, ":", port, "\r\n",
    "Content-Type: application/json\r\n",
    "Content-Length: ", length(payload), "\r\n\r\n"
  )
  con <- socketConnection(host, port, blocking = TRUE, open = "r+b", timeout = 30)
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

getAlgorithmiaClient <- function(...) list(reportInsights = reportInsights)
