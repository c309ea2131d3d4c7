# Shared by every customer page.
language = Language
error-title = Something is not right
go-back = Go back
try-again-later = The service is busy for a moment. Please try again in a minute.
days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
