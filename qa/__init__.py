"""planqa's answering layer: questions in, quoted passages (or an honest "not covered") out."""
