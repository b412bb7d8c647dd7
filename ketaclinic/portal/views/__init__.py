"""The doors in: the public site (`public`), the staff home pages (`staff`), and a patient's or guardian's
own pages (`patient`)."""
