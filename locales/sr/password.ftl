pw-forgot-label = Adresa e-pošte ili korisničko ime
pw-forgot-button = Pošalji mi link
pw-forgot-title = Zaboravili ste lozinku?
pw-forgot-text = Unesite adresu e-pošte svog naloga (ili korisničko ime). Poslaćemo Vam link za izbor nove lozinke; važi jednom, sat vremena. Ovo pomaže i kada je privremena lozinka istekla.
pw-back-to-login = Nazad na prijavu
pw-sent-title = Proverite e-poštu
pw-sent-text = <p>Ako ova adresa ili korisničko ime pripada nalogu, poslali smo link na adresu e-pošte tog naloga. Važi jednom, sat vremena.</p><p class="muted">Ništa nije stiglo? Pogledajte fasciklu za neželjenu poštu ili pokušajte ponovo za nekoliko minuta.</p>
pw-not-sent-title = Slanje nije uspelo
pw-choose-title = Izaberite novu lozinku
pw-choose-text = Najmanje 12 znakova; dobro rade nekoliko nepovezanih reči. Bićete odjavljeni sa svih uređaja.
pw-new-password = Nova lozinka
pw-save-button = Sačuvaj novu lozinku
pw-link-failed-title = Ovaj link ne radi
pw-later-title = Pokušajte ponovo kasnije
pw-later-text = Trenutno ne možemo da proverimo ovaj link. Ništa nije promenjeno i link i dalje važi: otvorite ga ponovo za nekoliko minuta.
pw-changed-title = Lozinka je promenjena
pw-changed-text = <p class="ok">Nova lozinka je sačuvana i nalog je odjavljen sa svih uređaja.</p><p>Prijavite se korisničkim imenom ili adresom e-pošte i novom lozinkom.</p>
pw-log-in = Prijava
pw-not-saved = Novu lozinku trenutno nije moguće sačuvati; ništa nije promenjeno i link i dalje važi. Pokušajte ponovo za nekoliko minuta.
