/** A llama2.c input file that is missing, truncated or of another format (the user's to fix). */
export class Llama2cInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Llama2cInputError";
  }
}
