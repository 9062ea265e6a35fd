import type { DescribeImagesCommandInput, Image } from '@aws-sdk/client-ec2';
import type { ResolvedImage } from '../../core/fleet/ports.ts';
import { ProvisioningError } from '../../core/fleet/provisioning-failures.ts';
import type { AmiSource, ResolvedWorkerClass } from '../../declarations/worker-classes.ts';
import { ec2Call } from './errors.ts';
import type { LazyEc2, LazySsm } from './lazy-clients.ts';

export const DEFAULT_IMAGE_CACHE_TTL_MS = 10 * 60_000;

/**
 * Resolves a class's human-readable AMI names to images. Every launch needs one, and DescribeImages with a name
 * pattern is slow and spends Describe tokens, so answers are cached per (class, AMI name) for a while: a newly
 * published image is picked up within the TTL. Failures are not cached, so a fixed class works on the next call.
 */
export class ImageResolver {
  private readonly cache = new Map<string, { image: ResolvedImage; expiresAt: number }>();

  constructor(
    private readonly clients: { ec2: LazyEc2; ssm: LazySsm },
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  async resolve(workerClass: ResolvedWorkerClass, amiName: string): Promise<ResolvedImage> {
    const key = `${workerClass.name}\u0000${amiName}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.image;
    const source = Object.hasOwn(workerClass.amis, amiName) ? workerClass.amis[amiName] : undefined;
    if (!source) {
      const known = Object.keys(workerClass.amis).join(', ');
      throw new ProvisioningError('AMI_NOT_FOUND', `Worker class "${workerClass.name}" has no AMI named "${amiName}" (known: ${known}).`);
    }
    const image = { amiName, ...(await this.lookUp(source)) };
    this.cache.set(key, { image, expiresAt: this.now() + this.ttlMs });
    return image;
  }

  private async lookUp(source: AmiSource): Promise<FoundImage> {
    if ('imageId' in source) return this.byId(source.imageId, `image ${source.imageId}`);
    if ('ssmParameter' in source) {
      const { Parameter } = await ec2Call(`GetParameter ${source.ssmParameter}`, () =>
        this.clients.ssm.use((ssm, sdk) => ssm.send(new sdk.GetParameterCommand({ Name: source.ssmParameter }))),
      );
      const imageId = Parameter?.Value?.trim();
      if (!imageId) throw new ProvisioningError('AMI_NOT_FOUND', `SSM parameter ${source.ssmParameter} holds no image id.`);
      return this.byId(imageId, `image ${imageId} (from SSM parameter ${source.ssmParameter})`);
    }
    return this.newestMatching(source.namePattern, source.owners);
  }

  private async byId(imageId: string, what: string): Promise<FoundImage> {
    const images = await this.describe({ ImageIds: [imageId] });
    const image = images.find((i) => i.ImageId === imageId);
    if (!image) throw new ProvisioningError('AMI_NOT_FOUND', `No ${what} in this region.`);
    // A pending, failed or deregistered image cannot launch; say so here rather than as a RunInstances error.
    if (image.State && image.State !== 'available') throw new ProvisioningError('AMI_NOT_FOUND', `The ${what} is ${image.State}, not available.`);
    return checked(image, what);
  }

  private async newestMatching(namePattern: string, owners: readonly string[]): Promise<FoundImage> {
    const images = await this.describe({
      Owners: [...owners],
      Filters: [
        { Name: 'name', Values: [namePattern] },
        { Name: 'state', Values: ['available'] },
      ],
    });
    const what = `image named "${namePattern}" owned by ${owners.join(', ')}`;
    const newest = images.reduce<Image | undefined>((best, i) => (!best || createdAt(i) > createdAt(best) ? i : best), undefined);
    if (!newest) throw new ProvisioningError('AMI_NOT_FOUND', `No available ${what} in this region.`);
    return checked(newest, what);
  }

  /** DescribeImages across pages (an owner such as `amazon` has thousands of images). */
  private async describe(input: DescribeImagesCommandInput): Promise<Image[]> {
    const images: Image[] = [];
    let NextToken: string | undefined;
    do {
      const page = await ec2Call('DescribeImages', () => this.clients.ec2.use((ec2, sdk) => ec2.send(new sdk.DescribeImagesCommand({ ...input, NextToken }))));
      images.push(...(page.Images ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return images;
  }
}

type FoundImage = Omit<ResolvedImage, 'amiName'>;

/** An image without a date sorts oldest, so it never wins over a dated one. */
function createdAt(image: Image): number {
  const time = Date.parse(image.CreationDate ?? '');
  return Number.isNaN(time) ? -Infinity : time;
}

function checked(image: Image, what: string): FoundImage {
  if (!image.ImageId || !image.RootDeviceName) throw new ProvisioningError('AMI_NOT_FOUND', `The ${what} has no image id or root device name.`);
  return { amiId: image.ImageId, rootDeviceName: image.RootDeviceName };
}
