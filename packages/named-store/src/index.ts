export { ShmError } from "@shmkit/errors"
