# Stranice plaćanja: /pay/{order}, prelazak na platni servis i /orders/{order}/return.
pay-title = Plaćanje porudžbine
pay-order = Porudžbina { $id }
pay-card-note = Podatke o kartici unosite na stranici platnog servisa; mi ne vidimo brojeve kartica.
pay-none = Nijedan način plaćanja nije uključen. Molimo Vas da se obratite prodavnici.
nothing-to-pay = Nema ništa za plaćanje
order-is = Status porudžbine: <strong>{ $status }</strong>.
order-status = { $status ->
    [pending_payment] čeka plaćanje
    [paid] plaćena
    [provisioned] plaćena
    [failed] plaćanje nije uspelo
    [expired] rok za plaćanje je istekao
    [cancelled] otkazana
    [refunded] novac je vraćen
   *[other] { $status }
}
order-not-found = Nismo pronašli ovu porudžbinu.
busy = Molimo Vas da pokušate ponovo za trenutak.
too-many = Previše pokušaja. Sačekajte minut i pokušajte ponovo.
method-unavailable = Ovaj način plaćanja nije dostupan.
provider-failed = Platni servis nije odgovorio kako se očekivalo. Pokušajte ponovo za trenutak ili izaberite drugi način plaćanja.
held-title = Plaćanje je autorizovano
held-text = <p class="ok">Plaćanje karticom je autorizovano i čeka potvrdu prodavnice.</p><p>Čim bude potvrđeno, dobićete e-poruku; ne morate više ništa da plaćate.</p>
held-review = <p>Uplata je primljena; prodavnica je proverava i javiće Vam se.</p><p>Ne morate više ništa da plaćate.</p>
declined-title = Plaćanje je odbijeno
declined-text = <p>Prodavnica je odbila ovo plaćanje i novac je vraćen preko platnog servisa; porudžbina nije plaćena.</p><p>Ako imate pitanja, obratite se prodavnici.</p>
confirming-title = Potvrđujemo plaćanje
confirming-text = <p>Čekamo da platni servis potvrdi Vaše plaćanje. Ova stranica se sama osvežava.</p><p class="muted">Ako ste odustali, možete <a href="{ $href }">pokušati ponovo</a>.</p>
received-title = Uplata je primljena
status-title = Status porudžbine
paid-thanks = Hvala! Vaše plaćanje je potvrđeno.
paid-new-account = Šaljemo korisničko ime, privremenu lozinku i link za potvrdu na <strong>{ $email }</strong>. Potvrdite adresu, prijavite se i izaberite svoju lozinku — i spremni ste.
paid-extended = Korisničko ime za <strong>{ $service }</strong> stiže na <strong>{ $email }</strong>, a ako ta adresa već ima nalog, pristup je dodat tom nalogu: prijavite se korisničkim imenom i lozinkom koje već imate.
paid-only-thanks = Hvala! Plaćanje za <strong>{ $service }</strong> je potvrđeno.
paid-only-text = Potvrda stiže na <strong>{ $email }</strong>.
go-to-cabinet = Idite na svoj nalog
