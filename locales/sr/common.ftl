# Zajedničko za sve stranice kupca.
language = Jezik
error-title = Nešto nije u redu
go-back = Vratite se nazad
try-again-later = Servis je trenutno zauzet. Molimo Vas da pokušate ponovo za minut.
days = { $count ->
    [one] { $count } dan
   *[other] { $count } dana
}
