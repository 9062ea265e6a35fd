import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SlotWaits } from '../../core/admission.ts';
import { asLazySfn, type LazySfn } from '../lazy-clients.ts';
import { isTaskOverError } from './saga-control.ts';

/** Admits a parked run by answering its WaitForSlot token; the saga then claims. */
export class SfnSlotWaits implements SlotWaits {
  private readonly client: LazySfn;

  /** Through a LazyClient, as SagaControl's: the client is set up as every other (sdk-call-logging.ts). */
  constructor(client: SFNClient | LazySfn) {
    this.client = asLazySfn(client);
  }

  async wake(taskToken: string): Promise<'woken' | 'over'> {
    try {
      await this.client.use((sfn, sdk) => sfn.send(new sdk.SendTaskSuccessCommand({ taskToken, output: '{}' })));
      return 'woken';
    } catch (error) {
      // Cancelled (execution stopped), timed out, or answered by another admission: that wait is over.
      if (isTaskOverError(error)) return 'over';
      throw error;
    }
  }
}
