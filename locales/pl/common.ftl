# Wspólne dla wszystkich stron klienta.
language = Język
error-title = Coś poszło nie tak
go-back = Wróć
try-again-later = Usługa jest chwilowo zajęta. Prosimy spróbować ponownie za minutę.
days = { $count ->
    [one] { $count } dzień
   *[other] { $count } dni
}
