package dev.iommulab.vfio;

/**
 * An object of an iommufd context ({@code struct iommufd_object}): its id in the context's table and its
 * {@code users} count — 1 for the table itself plus one per reference other objects or attachments hold. Destroying
 * it through the table needs {@code users} to be 1 (else EBUSY).
 */
abstract sealed class IommufdObject permits Ioas, Hwpt, FaultObject, IommufdDevice, Viommu, VeventqObject {

    private final String typeName;
    private int id;
    private int users = 1;

    /** @param typeName the {@code IOMMUFD_OBJ_*} name */
    IommufdObject(String typeName) {
        this.typeName = typeName;
    }

    final int id() {
        return id;
    }

    final void setId(int id) {
        this.id = id;
    }

    final int users() {
        return users;
    }

    /** refcount_inc(&obj->users). */
    final void get() {
        users++;
    }

    /** refcount_dec(&obj->users). */
    final void put() {
        if (users <= 1) {
            throw new IllegalStateException(this + ": users would drop to 0 while in the table");
        }
        users--;
    }

    /** The {@code IOMMUFD_OBJ_*} name. */
    final String typeName() {
        return typeName;
    }

    /** The type's {@code destroy} op: drop what the object holds. Called once, after it left the table. */
    abstract void destroy();

    @Override
    public String toString() {
        return typeName() + " " + id;
    }
}
