import OpenAI from 'openai';

/** One message of a chat completion request. */
export interface ModelMessage {
  role: 'system' | 'user';
  content: string;
}

/** Token counts as the model's server reported them (`stream_options.include_usage`). */
export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
}

/** One piece of a streamed answer: text, the usage report, or the end (`finished`). */
export interface ModelChunk {
  delta: string;
  usage?: ModelUsage;
  /** The server said why it stopped (`finish_reason`): the answer is whole. */
  finished?: boolean;
}

/**
 * A model that streams an answer. `open` resolves once the server has answered (its response
 * headers), rejects when it cannot be reached or refuses; iteration then ends when the stream ends
 * and throws when it breaks (see `model-errors.ts`). Aborting `signal` stops either.
 */
export interface ModelClient {
  readonly model: string;
  open(messages: ModelMessage[], signal: AbortSignal): Promise<AsyncIterable<ModelChunk>>;
}

export interface OpenAiModelOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/**
 * An OpenAI-compatible Chat Completions server (OpenAI, Ollama, vLLM, llama.cpp's server) through
 * the official client. No retries: a retried stream would repeat text the session already has,
 * and the client's own timeout is off (AI_TIMEOUT_MS is watched per token by the caller). The
 * client's own logging is off too: the relay logs what matters, and never the key.
 */
export class OpenAiModelClient implements ModelClient {
  readonly model: string;
  private readonly client: OpenAI;

  constructor(options: OpenAiModelOptions) {
    this.model = options.model;
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: 24 * 3_600_000,
      logLevel: 'off',
    });
  }

  async open(messages: ModelMessage[], signal: AbortSignal): Promise<AsyncIterable<ModelChunk>> {
    const stream = await this.client.chat.completions.create(
      { model: this.model, messages, stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    return chunksOf(stream);
  }
}

async function* chunksOf(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): AsyncIterable<ModelChunk> {
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    const out: ModelChunk = { delta: choice?.delta?.content ?? '' };
    if (choice?.finish_reason) out.finished = true;
    if (chunk.usage) out.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
    yield out;
  }
}
