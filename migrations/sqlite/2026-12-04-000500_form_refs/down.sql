DROP TABLE form_refs;
