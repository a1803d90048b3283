//! Contact imports of what spreadsheets export: encodings, delimiters,
//! header mapping, E.164 normalisation, bad rows and duplicates.

use super::*;
use crate::import::normalise_phone;

/// A campaign whose national numbers are Spanish.
async fn spanish_campaign(db: &Storage) -> CampaignRow {
    let mut input = CampaignInput::new("Ventas", CampaignKind::Dialer);
    input.default_country = Some("es".into());
    db.create_campaign(&input).await.expect("campaign")
}

async fn list_contacts(db: &Storage, list_id: &Option<String>) -> Vec<ContactRow> {
    let mut rows = db
        .search_contacts(&ContactQuery {
            list_id: list_id.clone(),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    rows.sort_by(|a, b| a.phone.cmp(&b.phone));
    rows
}

async fn import(db: &Storage, camp: &CampaignRow, bytes: &[u8]) -> ImportReport {
    db.import_contacts("l", Some(&camp.id), bytes, &ImportOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn spanish_windows_1252_semicolon_file_as_excel_saves_it() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    assert_eq!(camp.default_country.as_deref(), Some("ES"));
    // Byte for byte what a Spanish-locale spreadsheet writes as "CSV":
    // Windows-1252 (é = E9, ñ = F1, á = E1, ó = F3), semicolons, CRLF.
    let bytes: &[u8] = b"Nombre;Apellidos;Tel\xe9fono;Ciudad\r\n\
Jos\xe9;Mu\xf1oz;600 12 34 56;M\xe1laga\r\n\
Ram\xf3n;Garc\xeda;+34 911 23 45 67;\"Le\xf3n; centro\"\r\n";
    let r = import(&db, &camp, bytes).await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.imported, 2);
    assert_eq!(
        (r.encoding.as_str(), r.delimiter.as_str()),
        ("windows-1252", ";")
    );
    assert_eq!(r.country.as_deref(), Some("ES"));
    let cols = r.columns.clone().unwrap();
    assert_eq!(cols.phone, "Teléfono");
    assert_eq!(cols.name.as_deref(), Some("Nombre"));
    assert_eq!(cols.last_name.as_deref(), Some("Apellidos"));
    assert_eq!(cols.extra, vec!["Ciudad"]);
    let rows = list_contacts(&db, &r.list_id).await;
    assert_eq!(rows[0].phone, "+34600123456");
    assert_eq!(rows[0].name, "José Muñoz");
    assert_eq!(rows[0].extra, serde_json::json!({"Ciudad": "Málaga"}));
    assert_eq!(rows[1].phone, "+34911234567");
    assert_eq!(rows[1].name, "Ramón García");
    assert_eq!(rows[1].extra["Ciudad"], "León; centro");
}

#[tokio::test]
async fn utf16_with_bom_tab_separated_as_unicode_text_exports() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    let text = "Nombre\tMóvil\tZona horaria\r\nJosé Muñoz\t612345678\tEurope/Madrid\r\n\
Ana\t+54 9 11 2345-6789\tAmerica/Argentina/Buenos_Aires\r\n";
    for big_endian in [false, true] {
        let mut bytes: Vec<u8> = if big_endian {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        let list = if big_endian { "be" } else { "le" };
        let opts = ImportOptions::default();
        let r = db
            .import_contacts(list, Some(&camp.id), &bytes, &opts)
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
        let want = if big_endian { "UTF-16BE" } else { "UTF-16LE" };
        assert_eq!((r.encoding.as_str(), r.delimiter.as_str()), (want, "\t"));
        assert_eq!(
            r.columns.as_ref().unwrap().timezone.as_deref(),
            Some("Zona horaria")
        );
        let rows = list_contacts(&db, &r.list_id).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].phone, "+34612345678");
        assert_eq!(rows[0].name, "José Muñoz");
        assert_eq!(rows[0].timezone.as_deref(), Some("Europe/Madrid"));
        assert_eq!(rows[1].phone, "+5491123456789");
        assert_eq!(
            rows[1].timezone.as_deref(),
            Some("America/Argentina/Buenos_Aires")
        );
        assert_eq!(rows[1].extra, serde_json::json!({}));
    }
}

#[tokio::test]
async fn utf8_bom_commas_quoted_newlines_and_delimiters() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    let text = "\u{feff}Phone,Name,Note\n\
\"600 111 222\",\"Muñoz, José\",\"first line\nsecond, line\"\n\
600111333,Eva,\"says \"\"hi\"\"\"\n";
    let r = import(&db, &camp, text.as_bytes()).await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!((r.encoding.as_str(), r.delimiter.as_str()), ("UTF-8", ","));
    let rows = list_contacts(&db, &r.list_id).await;
    assert_eq!(rows[0].name, "Muñoz, José");
    assert_eq!(rows[0].extra["Note"], "first line\nsecond, line");
    assert_eq!(rows[1].extra["Note"], "says \"hi\"");
    // The row after a quoted newline is reported with its own line (4).
    let bad = "Phone,Name,Note\n600111222,A,\"x\ny\"\n12,B,z\n";
    let r = db
        .import_contacts(
            "bad",
            Some(&camp.id),
            bad.as_bytes(),
            &ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert_eq!(r.errors[0].line, 4);
}

#[tokio::test]
async fn explicit_mapping_encoding_delimiter_and_country() {
    let db = test_db().await;
    // Latin-1 bytes, pipe-separated, with headers we would not guess.
    let bytes = b"Cliente|Contacto m\xf3vil|Zona|Tel fijo\n\xc1lvaro|011 2345 6789|America/Argentina/Cordoba|x\n";
    let opts = ImportOptions {
        encoding: Some("latin1".into()),
        delimiter: Some('|'),
        country: Some("AR".into()),
        phone_column: Some("contacto MÓVIL".into()),
        name_column: Some("Cliente".into()),
        timezone_column: Some("Zona".into()),
    };
    let r = db.import_contacts("ar", None, bytes, &opts).await.unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.encoding, "windows-1252");
    let rows = list_contacts(&db, &r.list_id).await;
    assert_eq!(rows[0].phone, "+541123456789");
    assert_eq!(rows[0].name, "Álvaro");
    assert_eq!(
        rows[0].timezone.as_deref(),
        Some("America/Argentina/Cordoba")
    );
    assert_eq!(rows[0].extra, serde_json::json!({"Tel fijo": "x"}));

    let missing = ImportOptions {
        phone_column: Some("Fax".into()),
        ..Default::default()
    };
    let r = db
        .import_contacts("x", None, b"phone\n600111222\n", &missing)
        .await
        .unwrap();
    assert!(
        r.errors[0].reason.contains("no column named \"Fax\""),
        "{r:?}"
    );
    let invalid = |opts: ImportOptions| {
        let db = db.handle();
        async move {
            db.import_contacts("x", None, b"phone\n1\n", &opts)
                .await
                .unwrap_err()
        }
    };
    let e = invalid(ImportOptions {
        country: Some("XX".into()),
        ..Default::default()
    })
    .await;
    assert!(
        matches!(e, StorageError::Invalid(ref m) if m.contains("unknown country")),
        "{e}"
    );
    let e = invalid(ImportOptions {
        encoding: Some("klingon".into()),
        ..Default::default()
    })
    .await;
    assert!(
        matches!(e, StorageError::Invalid(ref m) if m.contains("unknown encoding")),
        "{e}"
    );
    let mut bad = CampaignInput::new("Bad", CampaignKind::Dialer);
    bad.default_country = Some("Spain".into());
    assert!(matches!(
        db.create_campaign(&bad).await.unwrap_err(),
        StorageError::Invalid(_)
    ));
}

#[tokio::test]
async fn bad_rows_are_listed_per_line_and_nothing_is_imported() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    let text = "teléfono;nombre;tz\n\
600123456;ok;\n\
12345;too short;\n\
+1 555 0100;not a real US number;\n\
600123457;bad zone;Europe/Atlantis\n\
abc;letters;\n\
600123458;missing a field\n\
;empty;\n";
    let r = import(&db, &camp, text.as_bytes()).await;
    assert_eq!((r.imported, r.list_id.clone()), (0, None));
    let got: Vec<(usize, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.reason.as_str()))
        .collect();
    assert_eq!(
        got.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7, 8],
        "{got:?}"
    );
    assert!(got[0].1.contains("not a valid ES number"), "{got:?}");
    assert!(
        got[1].1.contains("not a valid international number"),
        "{got:?}"
    );
    assert!(got[2].1.contains("IANA"), "{got:?}");
    assert!(got[3].1.contains("not a phone number"), "{got:?}");
    assert!(got[4].1.contains("fields"), "{got:?}");
    assert!(got[5].1.contains("empty"), "{got:?}");
    assert!(db.list_contact_lists().await.unwrap().is_empty());
}

#[tokio::test]
async fn duplicates_in_the_file_and_in_the_list_are_reported_not_doubled() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    let text = "phone,name\n600123456,Ana\n+34 600 12 34 56,Ana again\n0034600123457,Bea\n600-123-457,Bea again\n";
    let r = import(&db, &camp, text.as_bytes()).await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.imported, 2);
    let dups: Vec<(usize, &str, Option<usize>)> = r
        .duplicates
        .iter()
        .map(|d| (d.line, d.phone.as_str(), d.first_line))
        .collect();
    assert_eq!(
        dups,
        vec![(3, "+34600123456", Some(2)), (5, "+34600123457", Some(4))]
    );
    // The same file again, plus one new number: only the new one goes in.
    let again = format!("{text}611222333,Carla\n");
    let r2 = import(&db, &camp, again.as_bytes()).await;
    assert_eq!(r2.imported, 1, "{r2:?}");
    assert_eq!(r2.list_id, r.list_id);
    let from_list: Vec<(usize, Option<usize>)> = r2
        .duplicates
        .iter()
        .map(|d| (d.line, d.first_line))
        .collect();
    assert_eq!(
        from_list,
        vec![(2, None), (3, Some(2)), (4, None), (5, Some(4))]
    );
    assert_eq!(list_contacts(&db, &r.list_id).await.len(), 3);
    // Another list may hold the same number.
    let other = db
        .import_contacts(
            "other",
            Some(&camp.id),
            b"phone\n600123456\n",
            &ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!((other.imported, other.duplicates.len()), (1, 0));
}

#[tokio::test]
async fn zone_from_the_numbers_country_when_the_file_has_none() {
    let db = test_db().await;
    let camp = spanish_campaign(&db).await;
    // No zone column: French, British and Argentine numbers get their
    // country's zone; Spain (Canaries) and the US have several clocks and
    // get none; a national number is read as Spanish.
    let text = "phone,name\n+33 6 12 34 56 78,Paris\n+44 20 7946 0003,London\n\
+54 9 11 2345-6789,Buenos Aires\n600123456,Madrid\n+1 201 555 0123,Newark\n";
    let r = import(&db, &camp, text.as_bytes()).await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!((r.imported, r.zones_from_numbers), (5, 3), "{r:?}");
    assert_eq!(r.columns.as_ref().unwrap().timezone, None);
    let zones: Vec<(String, Option<String>)> = list_contacts(&db, &r.list_id)
        .await
        .into_iter()
        .map(|c| (c.phone, c.timezone))
        .collect();
    let zone = |z: &str| Some(z.to_string());
    assert_eq!(
        zones,
        vec![
            ("+12015550123".to_string(), None),
            ("+33612345678".to_string(), zone("Europe/Paris")),
            ("+34600123456".to_string(), None),
            ("+442079460003".to_string(), zone("Europe/London")),
            (
                "+5491123456789".to_string(),
                zone("America/Argentina/Buenos_Aires")
            ),
        ]
    );
    // A zone in the file wins; an empty cell falls back to the number's.
    let text = "phone;zona horaria\n+33 6 12 34 56 79;America/Cayenne\n+33 6 12 34 56 80;\n";
    let opts = ImportOptions::default();
    let r = db
        .import_contacts("fr", Some(&camp.id), text.as_bytes(), &opts)
        .await
        .unwrap();
    assert_eq!((r.imported, r.zones_from_numbers), (2, 1), "{r:?}");
    let rows = list_contacts(&db, &r.list_id).await;
    let got: Vec<Option<&str>> = rows.iter().map(|c| c.timezone.as_deref()).collect();
    assert_eq!(got, vec![Some("America/Cayenne"), Some("Europe/Paris")]);
}

#[test]
fn phone_normalisation() {
    use phonenumber::country::Id;
    let es = Some(Id::ES);
    assert_eq!(
        normalise_phone(" 600 12 34 56 ", es).unwrap(),
        "+34600123456"
    );
    assert_eq!(
        normalise_phone("(+34) 600-123-456", es).unwrap(),
        "+34600123456"
    );
    assert_eq!(
        normalise_phone("0044 20 7946 0003", es).unwrap(),
        "+442079460003"
    );
    assert_eq!(
        normalise_phone("+44 20 7946 0003", None).unwrap(),
        "+442079460003"
    );
    assert_eq!(
        normalise_phone("011 2345-6789", Some(Id::AR)).unwrap(),
        "+541123456789"
    );
    assert_eq!(
        normalise_phone("(201) 555-0123", Some(Id::US)).unwrap(),
        "+12015550123"
    );
    // Without a country, national numbers are kept as dialled.
    assert_eq!(normalise_phone("555 0001", None).unwrap(), "5550001");
    assert!(normalise_phone("+3399", None).is_err());
    assert!(normalise_phone("6001", es).is_err());
    assert!(normalise_phone("", es).unwrap_err().contains("empty"));
}
