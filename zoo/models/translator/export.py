"""Export of the translators: a SavedModel with tokenization, greedy decoding and detokenization inside."""

from __future__ import annotations

from zoo.models.translator.decoding import runtime

def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``translate`` signature (also ``serving_default``) maps Spanish text to English text.

    Takes ``text`` (tf.string ``[batch]``) and returns ``translation`` (tf.string ``[batch]``): greedy
    decoding with the loop, the tokenization and the detokenization inside the graph, so it needs
    neither ``zoo`` nor Keras: ``tf.saved_model.load(path).signatures["translate"](text=tf.constant([...]))``.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    run = runtime(model)

    def serve(text):
        return {"translation": run.decode_graph(text, beam_width=1)["translation"]}

    return write_saved_model(model, out_dir, {"translate": (serve, [tf.TensorSpec([None], tf.string, name="text")])})
