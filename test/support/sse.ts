/** One Server-Sent Event as the engine sends them: a name and one data line. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads events from a text/event-stream answer until `enough` says so, then cancels the stream (the
 * server sees its client leave).
 */
export async function readSse(res: Response, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const field = (name: string) => lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2)).join('\n');
        events.push({ event: field('event'), data: field('data') });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}
