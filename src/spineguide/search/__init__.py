"""Search and answers over the knowledge base (`spineguide ask`)."""
