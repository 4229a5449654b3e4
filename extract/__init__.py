"""extract stage: find each form on a page image, align it, read every field into a record."""
