# Strony płatności: /pay/{order}, przejście do operatora płatności i /orders/{order}/return.
pay-title = Płatność za zamówienie
pay-order = Zamówienie { $id }
pay-card-note = Dane karty podasz na stronie operatora płatności; nie widzimy numerów kart.
pay-none = Żadna metoda płatności nie jest włączona. Skontaktuj się ze sklepem.
nothing-to-pay = Brak należności
order-is = Status zamówienia: <strong>{ $status }</strong>.
order-status = { $status ->
    [pending_payment] oczekuje na płatność
    [paid] opłacone
    [provisioned] opłacone
    [failed] płatność nieudana
    [expired] termin płatności minął
    [cancelled] anulowane
    [refunded] zwrócone
   *[other] { $status }
}
order-not-found = Nie znaleźliśmy tego zamówienia.
busy = Spróbuj ponownie za chwilę.
too-many = Zbyt wiele prób. Odczekaj minutę i spróbuj ponownie.
method-unavailable = Ta metoda płatności jest niedostępna.
provider-failed = Operator płatności odpowiedział nieoczekiwanie. Spróbuj ponownie za chwilę lub wybierz inną metodę płatności.
held-title = Płatność autoryzowana
held-text = <p class="ok">Płatność kartą została autoryzowana i czeka na potwierdzenie sklepu.</p><p>Po potwierdzeniu otrzymasz e-mail; nie musisz już nic płacić.</p>
held-review = <p>Płatność otrzymana; sklep ją sprawdza i skontaktuje się z Tobą.</p><p>Nie musisz już nic płacić.</p>
declined-title = Płatność odrzucona
declined-text = <p>Sklep odrzucił tę płatność, a środki zostały zwrócone przez operatora płatności; zamówienie nie jest opłacone.</p><p>W razie pytań skontaktuj się ze sklepem.</p>
confirming-title = Potwierdzamy płatność
confirming-text = <p>Czekamy, aż operator płatności potwierdzi płatność. Strona odświeży się sama.</p><p class="muted">Jeśli płatność została przerwana, możesz <a href="{ $href }">spróbować ponownie</a>.</p>
received-title = Płatność otrzymana
status-title = Status zamówienia
paid-thanks = Dziękujemy! Płatność została potwierdzona.
paid-new-account = Wysyłamy login, hasło tymczasowe i link potwierdzający na adres <strong>{ $email }</strong>. Potwierdź adres, zaloguj się i ustaw własne hasło — to wszystko.
paid-extended = Login do usługi <strong>{ $service }</strong> jest w drodze na adres <strong>{ $email }</strong>, a jeśli ten adres ma już konto, dostęp został do niego dodany: zaloguj się dotychczasowym loginem i hasłem.
paid-only-thanks = Dziękujemy! Płatność za <strong>{ $service }</strong> została potwierdzona.
paid-only-text = Potwierdzenie wysłaliśmy na adres <strong>{ $email }</strong>.
go-to-cabinet = Przejdź do panelu klienta
