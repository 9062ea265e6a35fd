import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { SlotWaits } from '../../core/admission.ts';
import { isTaskOverError } from './saga-control.ts';

/** Admits a parked run by answering its WaitForSlot token; the saga then claims. */
export class SfnSlotWaits implements SlotWaits {
  constructor(private readonly client: SFNClient) {}

  async wake(taskToken: string): Promise<'woken' | 'over'> {
    try {
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }));
      return 'woken';
    } catch (error) {
      // Cancelled (execution stopped), timed out, or answered by another admission: that wait is over.
      if (isTaskOverError(error)) return 'over';
      throw error;
    }
  }
}
