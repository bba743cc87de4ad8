/**
 * A side path for an answer's text. A model that takes a `TextTap` hands each piece of text to it
 * directly, and sends the Runner only the events it needs (the start, the raw provider events, the
 * end). Every event through the Runner costs several async steps (its retry wrapper, its stream
 * loop, its result stream, the turn's loop); text is nearly all of an answer's events and the Runner
 * needs none of it (it builds the answer from `response_done`).
 *
 * The tap is told each event the model sends the Runner, in order with the text, so its consumer
 * can put the text back in its place among them (`src/chat/text-gate.ts`).
 */
import type { Model, ModelProvider, StreamEvent } from '@openai/agents';

export interface TextTap {
  /** The model sends `event` to the Runner now; the text after it comes after it. */
  sent(event: StreamEvent): void;
  /** A piece of the answer's text (never empty), in order. */
  text(delta: string): void;
}

/** A model that can send its text through a tap. */
export interface TextTappable {
  withTextTap(tap: TextTap): Model;
}

function isTextTappable(model: Model): model is Model & TextTappable {
  return typeof (model as Partial<TextTappable>).withTextTap === 'function';
}

/**
 * `provider` whose models send their text through `tap` where they can; the others stream as
 * before (their text events reach the Runner).
 */
export function tapText(provider: ModelProvider, tap: TextTap): ModelProvider {
  return {
    async getModel(modelName?: string): Promise<Model> {
      const model = await provider.getModel(modelName);
      return isTextTappable(model) ? model.withTextTap(tap) : model;
    },
  };
}
